// OpenBLAS's CBLAS interface (Debian: libopenblas-dev, header in the multiarch include dir).
#include <cblas.h>
