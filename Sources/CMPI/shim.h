// OpenMPI's C interface (Debian: libopenmpi-dev; include and library paths from pkg-config ompi-c).
// OpenMPI spells its predefined handles as macros over global objects, which Swift cannot import;
// these inline accessors hand them over as values.
#include <mpi.h>

static inline MPI_Comm tia_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype tia_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype tia_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype tia_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype tia_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Op tia_mpi_op_max(void) { return MPI_MAX; }
static inline void *tia_mpi_in_place(void) { return MPI_IN_PLACE; }
