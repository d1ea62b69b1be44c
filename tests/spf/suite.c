/* suite - placeholder until the RFC 7208 suite runner lands */
int main(void) { return 0; }
