// Test payload: as a program prints "PAYLOAD RAN"; as a shared object prints "PAYLOAD LOADED" from
// its constructor. Stands in for a dropped miner or an injected library.
#include <stdio.h>
#ifdef AS_LIBRARY
__attribute__((constructor)) static void loaded(void) { printf("PAYLOAD LOADED\n"); fflush(stdout); }
#else
int main(void) { printf("PAYLOAD RAN\n"); return 0; }
#endif
