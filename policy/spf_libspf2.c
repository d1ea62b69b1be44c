/* spf_libspf2 - placeholder until the libspf2 engine lands */
#include "config.h"
