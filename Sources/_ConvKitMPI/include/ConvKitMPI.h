#ifndef CONVKIT_MPI_H
#define CONVKIT_MPI_H

#include <stddef.h>
#include <stdint.h>

// MPI loaded at run time (dlopen), so that ConvKit builds and runs without MPI installed and
// one binary works with Open MPI and MPICH. Their handle ABIs differ (Open MPI: pointers to
// predefined globals; MPICH: 32-bit integers; MPI_IN_PLACE is (void *)1 vs (void *)-1), so each
// call goes through the table of the library that was loaded.
//
// Every function returns 0 on success or an MPI error code (or -1 for "not loaded"), and
// writes a message into `message` (at most `length` bytes, NUL-terminated) on failure.

/// Which library `ck_mpi_load` loaded: 0 none, 1 Open MPI, 2 MPICH.
int ck_mpi_flavor(void);

/// Loads `path` (or, when NULL, the library of the launcher that started this process:
/// Open MPI's libmpi.so.40 or MPICH's libmpich.so.12, trying the other one next).
int ck_mpi_load(const char *path, char *message, size_t length);

/// MPI_Init_thread(FUNNELED) with MPI_ERRORS_RETURN on MPI_COMM_WORLD; the library's version
/// string goes into `version`.
int ck_mpi_init(int *rank, int *size, char *version, size_t versionLength, char *message, size_t length);

/// In-place sum over all ranks of `count` floats / doubles / 64-bit integers.
int ck_mpi_allreduce_sum_f32(float *buffer, int count, char *message, size_t length);
int ck_mpi_allreduce_sum_f64(double *buffer, int count, char *message, size_t length);
/// In-place maximum over all ranks.
int ck_mpi_allreduce_max_i64(int64_t *buffer, int count, char *message, size_t length);

/// Starts an in-place float sum (MPI_Iallreduce); `slot` names it for test/wait.
/// At most 4,096 reductions may be outstanding.
int ck_mpi_start_allreduce_sum_f32(float *buffer, int count, int *slot, char *message, size_t length);
/// Whether the reduction in `slot` has finished (drives MPI's progress); frees the slot when done.
int ck_mpi_test(int slot, int *done, char *message, size_t length);
/// Waits for the reduction in `slot` and frees the slot.
int ck_mpi_wait(int slot, char *message, size_t length);

/// Broadcasts `count` bytes from `root`.
int ck_mpi_broadcast(void *buffer, int count, int root, char *message, size_t length);
/// Gathers `count` 64-bit integers from every rank into `received` (size × count, rank order).
int ck_mpi_allgather_i64(const int64_t *values, int count, int64_t *received, char *message, size_t length);
int ck_mpi_barrier(char *message, size_t length);
/// MPI_Abort on MPI_COMM_WORLD: ends every rank of the job.
void ck_mpi_abort(int code);
int ck_mpi_finalize(void);

#endif
