/* spf - placeholder until the evaluator lands */
#include "config.h"
