#include "ConvKitMPI.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NONE = 0, OPEN_MPI = 1, MPICH = 2 };
enum { MAX_PENDING = 4096, THREAD_FUNNELED = 1 };

static void *library;
static int flavor = NONE;

// Calls that take no handle have one signature in both ABIs.
static int (*mpi_finalize)(void);
static int (*mpi_finalized)(int *);
static int (*mpi_error_string)(int, char *, int *);
static int (*mpi_get_library_version)(char *, int *);

// Open MPI: every handle is a pointer (to a predefined global for the constants).
typedef void *OHandle;
static struct {
    int (*init_thread)(int *, char ***, int, int *);
    int (*comm_rank)(OHandle, int *), (*comm_size)(OHandle, int *), (*comm_set_errhandler)(OHandle, OHandle);
    int (*allreduce)(const void *, void *, int, OHandle, OHandle, OHandle);
    int (*iallreduce)(const void *, void *, int, OHandle, OHandle, OHandle, OHandle *);
    int (*test)(OHandle *, int *, void *), (*wait)(OHandle *, void *);
    int (*bcast)(void *, int, OHandle, int, OHandle);
    int (*allgather)(const void *, int, OHandle, void *, int, OHandle, OHandle);
    int (*barrier)(OHandle), (*abort)(OHandle, int);
    OHandle world, f32, f64, i64, byte, sum, max, errors_return;
    OHandle requests[MAX_PENDING];
} om;

// MPICH (and the MPICH ABI: Intel MPI, MVAPICH): every handle is an int with a fixed value
// (mpich/mpi.h).
typedef int MHandle;
static struct {
    int (*init_thread)(int *, char ***, int, int *);
    int (*comm_rank)(MHandle, int *), (*comm_size)(MHandle, int *), (*comm_set_errhandler)(MHandle, MHandle);
    int (*allreduce)(const void *, void *, int, MHandle, MHandle, MHandle);
    int (*iallreduce)(const void *, void *, int, MHandle, MHandle, MHandle, MHandle *);
    int (*test)(MHandle *, int *, void *), (*wait)(MHandle *, void *);
    int (*bcast)(void *, int, MHandle, int, MHandle);
    int (*allgather)(const void *, int, MHandle, void *, int, MHandle, MHandle);
    int (*barrier)(MHandle), (*abort)(MHandle, int);
    MHandle requests[MAX_PENDING];
} mp;
static const MHandle MP_WORLD = 0x44000000, MP_F32 = 0x4c00040a, MP_F64 = 0x4c00080b, MP_I64 = 0x4c00083a,
                     MP_BYTE = 0x4c00010d, MP_SUM = 0x58000003, MP_MAX = 0x58000001, MP_ERRORS_RETURN = 0x54000001;
#define OM_IN_PLACE ((void *)1)
#define MP_IN_PLACE ((void *)-1)
// MPI_STATUS_IGNORE: NULL in Open MPI, (MPI_Status *)1 in MPICH.
#define OM_STATUS_IGNORE NULL
#define MP_STATUS_IGNORE ((void *)1)

static unsigned char pending[MAX_PENDING];

int ck_mpi_flavor(void) { return flavor; }

static int fail(int code, char *message, size_t length, const char *what) {
    char text[1024] = "";
    int n = 0;
    if (code > 0 && mpi_error_string && mpi_error_string(code, text, &n) == 0) text[n < 1023 ? n : 1023] = 0;
    snprintf(message, length, "%s failed: %s (MPI error %d)", what, text[0] ? text : "unknown error", code);
    return code;
}

static int not_loaded(char *message, size_t length) {
    snprintf(message, length, "MPI is not loaded");
    return -1;
}

#define SYMBOL(table, field, name)                                                       \
    if (!(*(void **)&table.field = dlsym(handle, name))) { missing = name; goto incomplete; }
#define GLOBAL(field, name)                                                              \
    if (!(om.field = dlsym(handle, name))) { missing = name; goto incomplete; }

static int open_library(const char *path, char *message, size_t length) {
    // RTLD_GLOBAL: Open MPI's plugins (dlopened by libmpi) resolve libmpi's symbols globally.
    void *handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    const char *missing = NULL;
    if (!handle) {
        const char *why = dlerror();
        snprintf(message, length, "%s", why ? why : path);
        return -1;
    }
    int kind = dlsym(handle, "ompi_mpi_comm_world") ? OPEN_MPI : MPICH;
    if (!(*(void **)&mpi_finalize = dlsym(handle, "MPI_Finalize"))) { missing = "MPI_Finalize"; goto incomplete; }
    if (!(*(void **)&mpi_finalized = dlsym(handle, "MPI_Finalized"))) { missing = "MPI_Finalized"; goto incomplete; }
    if (!(*(void **)&mpi_error_string = dlsym(handle, "MPI_Error_string"))) { missing = "MPI_Error_string"; goto incomplete; }
    if (!(*(void **)&mpi_get_library_version = dlsym(handle, "MPI_Get_library_version"))) { missing = "MPI_Get_library_version"; goto incomplete; }
    if (kind == OPEN_MPI) {
        SYMBOL(om, init_thread, "MPI_Init_thread") SYMBOL(om, comm_rank, "MPI_Comm_rank") SYMBOL(om, comm_size, "MPI_Comm_size")
        SYMBOL(om, comm_set_errhandler, "MPI_Comm_set_errhandler") SYMBOL(om, allreduce, "MPI_Allreduce")
        SYMBOL(om, iallreduce, "MPI_Iallreduce") SYMBOL(om, test, "MPI_Test") SYMBOL(om, wait, "MPI_Wait")
        SYMBOL(om, bcast, "MPI_Bcast") SYMBOL(om, allgather, "MPI_Allgather") SYMBOL(om, barrier, "MPI_Barrier")
        SYMBOL(om, abort, "MPI_Abort")
        GLOBAL(world, "ompi_mpi_comm_world") GLOBAL(f32, "ompi_mpi_float") GLOBAL(f64, "ompi_mpi_double")
        GLOBAL(i64, "ompi_mpi_int64_t") GLOBAL(byte, "ompi_mpi_byte") GLOBAL(sum, "ompi_mpi_op_sum")
        GLOBAL(max, "ompi_mpi_op_max") GLOBAL(errors_return, "ompi_mpi_errors_return")
    } else {
        SYMBOL(mp, init_thread, "MPI_Init_thread") SYMBOL(mp, comm_rank, "MPI_Comm_rank") SYMBOL(mp, comm_size, "MPI_Comm_size")
        SYMBOL(mp, comm_set_errhandler, "MPI_Comm_set_errhandler") SYMBOL(mp, allreduce, "MPI_Allreduce")
        SYMBOL(mp, iallreduce, "MPI_Iallreduce") SYMBOL(mp, test, "MPI_Test") SYMBOL(mp, wait, "MPI_Wait")
        SYMBOL(mp, bcast, "MPI_Bcast") SYMBOL(mp, allgather, "MPI_Allgather") SYMBOL(mp, barrier, "MPI_Barrier")
        SYMBOL(mp, abort, "MPI_Abort")
    }
    library = handle;
    flavor = kind;
    return 0;
incomplete:
    snprintf(message, length, "%s has no %s; is it an MPI library?", path, missing);
    dlclose(handle);
    return -1;
}

int ck_mpi_load(const char *path, char *message, size_t length) {
    if (flavor != NONE) return 0;
    if (path) return open_library(path, message, length);
    // The launcher tells which library its ranks expect: Open MPI's mpirun sets OMPI_*,
    // MPICH's Hydra sets PMI_* (and Open MPI's PMIx sets PMIX_*, so check OMPI first).
    const char *openmpi[] = {"libmpi.so.40", "libmpich.so.12", "libmpi.so.12", "libmpi.so"};
    const char *mpich[] = {"libmpich.so.12", "libmpi.so.12", "libmpi.so.40", "libmpi.so"};
    const char **order = (getenv("OMPI_COMM_WORLD_SIZE") || !getenv("PMI_SIZE")) ? openmpi : mpich;
    char tried[1024] = "";
    for (int i = 0; i < 4; i++) {
        char why[512];
        if (open_library(order[i], why, sizeof why) == 0) return 0;
        size_t used = strlen(tried);
        snprintf(tried + used, sizeof tried - used, "%s%s", used ? "; " : "", why);
    }
    snprintf(message, length, "no MPI library could be loaded (%s)", tried);
    return -1;
}

int ck_mpi_init(int *rank, int *size, char *version, size_t versionLength, char *message, size_t length) {
    if (flavor == NONE) return not_loaded(message, length);
    int provided = 0, code;
    code = flavor == OPEN_MPI ? om.init_thread(NULL, NULL, THREAD_FUNNELED, &provided)
                              : mp.init_thread(NULL, NULL, THREAD_FUNNELED, &provided);
    if (code) return fail(code, message, length, "MPI_Init_thread");
    if (flavor == OPEN_MPI) {
        if ((code = om.comm_set_errhandler(om.world, om.errors_return))) return fail(code, message, length, "MPI_Comm_set_errhandler");
        if ((code = om.comm_rank(om.world, rank)) || (code = om.comm_size(om.world, size))) return fail(code, message, length, "MPI_Comm_rank/size");
    } else {
        if ((code = mp.comm_set_errhandler(MP_WORLD, MP_ERRORS_RETURN))) return fail(code, message, length, "MPI_Comm_set_errhandler");
        if ((code = mp.comm_rank(MP_WORLD, rank)) || (code = mp.comm_size(MP_WORLD, size))) return fail(code, message, length, "MPI_Comm_rank/size");
    }
    char text[8192] = "";
    int n = 0;
    if (mpi_get_library_version(text, &n) == 0) {
        text[n < 8191 ? n : 8191] = 0;
        char *newline = strchr(text, '\n');
        if (newline) *newline = 0;
        char *comma = strchr(text, ',');  // Open MPI: "Open MPI v4.1.4, package: …"
        if (comma && flavor == OPEN_MPI) *comma = 0;
    }
    snprintf(version, versionLength, "%s", text);
    return 0;
}

int ck_mpi_allreduce_sum_f32(float *buffer, int count, char *message, size_t length) {
    if (flavor == NONE) return not_loaded(message, length);
    int code = flavor == OPEN_MPI ? om.allreduce(OM_IN_PLACE, buffer, count, om.f32, om.sum, om.world)
                                  : mp.allreduce(MP_IN_PLACE, buffer, count, MP_F32, MP_SUM, MP_WORLD);
    return code ? fail(code, message, length, "MPI_Allreduce") : 0;
}

int ck_mpi_allreduce_sum_f64(double *buffer, int count, char *message, size_t length) {
    if (flavor == NONE) return not_loaded(message, length);
    int code = flavor == OPEN_MPI ? om.allreduce(OM_IN_PLACE, buffer, count, om.f64, om.sum, om.world)
                                  : mp.allreduce(MP_IN_PLACE, buffer, count, MP_F64, MP_SUM, MP_WORLD);
    return code ? fail(code, message, length, "MPI_Allreduce") : 0;
}

int ck_mpi_allreduce_max_i64(int64_t *buffer, int count, char *message, size_t length) {
    if (flavor == NONE) return not_loaded(message, length);
    int code = flavor == OPEN_MPI ? om.allreduce(OM_IN_PLACE, buffer, count, om.i64, om.max, om.world)
                                  : mp.allreduce(MP_IN_PLACE, buffer, count, MP_I64, MP_MAX, MP_WORLD);
    return code ? fail(code, message, length, "MPI_Allreduce") : 0;
}

int ck_mpi_start_allreduce_sum_f32(float *buffer, int count, int *slot, char *message, size_t length) {
    if (flavor == NONE) return not_loaded(message, length);
    int s = 0;
    while (s < MAX_PENDING && pending[s]) s++;
    if (s == MAX_PENDING) {
        snprintf(message, length, "more than %d reductions outstanding", MAX_PENDING);
        return -1;
    }
    int code = flavor == OPEN_MPI ? om.iallreduce(OM_IN_PLACE, buffer, count, om.f32, om.sum, om.world, &om.requests[s])
                                  : mp.iallreduce(MP_IN_PLACE, buffer, count, MP_F32, MP_SUM, MP_WORLD, &mp.requests[s]);
    if (code) return fail(code, message, length, "MPI_Iallreduce");
    pending[s] = 1;
    *slot = s;
    return 0;
}

static int check_slot(int slot, char *message, size_t length) {
    if (slot < 0 || slot >= MAX_PENDING || !pending[slot]) {
        snprintf(message, length, "no reduction is outstanding in slot %d", slot);
        return -1;
    }
    return 0;
}

int ck_mpi_test(int slot, int *done, char *message, size_t length) {
    if (flavor == NONE) return not_loaded(message, length);
    if (check_slot(slot, message, length)) return -1;
    int code = flavor == OPEN_MPI ? om.test(&om.requests[slot], done, OM_STATUS_IGNORE) : mp.test(&mp.requests[slot], done, MP_STATUS_IGNORE);
    if (code) return fail(code, message, length, "MPI_Test");
    if (*done) pending[slot] = 0;
    return 0;
}

int ck_mpi_wait(int slot, char *message, size_t length) {
    if (flavor == NONE) return not_loaded(message, length);
    if (check_slot(slot, message, length)) return -1;
    int code = flavor == OPEN_MPI ? om.wait(&om.requests[slot], OM_STATUS_IGNORE) : mp.wait(&mp.requests[slot], MP_STATUS_IGNORE);
    pending[slot] = 0;
    return code ? fail(code, message, length, "MPI_Wait") : 0;
}

int ck_mpi_broadcast(void *buffer, int count, int root, char *message, size_t length) {
    if (flavor == NONE) return not_loaded(message, length);
    int code = flavor == OPEN_MPI ? om.bcast(buffer, count, om.byte, root, om.world) : mp.bcast(buffer, count, MP_BYTE, root, MP_WORLD);
    return code ? fail(code, message, length, "MPI_Bcast") : 0;
}

int ck_mpi_allgather_i64(const int64_t *values, int count, int64_t *received, char *message, size_t length) {
    if (flavor == NONE) return not_loaded(message, length);
    int code = flavor == OPEN_MPI ? om.allgather(values, count, om.i64, received, count, om.i64, om.world)
                                  : mp.allgather(values, count, MP_I64, received, count, MP_I64, MP_WORLD);
    return code ? fail(code, message, length, "MPI_Allgather") : 0;
}

int ck_mpi_barrier(char *message, size_t length) {
    if (flavor == NONE) return not_loaded(message, length);
    int code = flavor == OPEN_MPI ? om.barrier(om.world) : mp.barrier(MP_WORLD);
    return code ? fail(code, message, length, "MPI_Barrier") : 0;
}

void ck_mpi_abort(int code) {
    if (flavor == OPEN_MPI) om.abort(om.world, code);
    else if (flavor == MPICH) mp.abort(MP_WORLD, code);
    exit(code);
}

int ck_mpi_finalize(void) {
    if (flavor == NONE) return 0;
    int done = 0;
    if (mpi_finalized(&done) == 0 && done) return 0;
    return mpi_finalize();
}
