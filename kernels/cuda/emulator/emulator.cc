// A CPU stand-in for the CUDA driver (libcuda.so.1) and the few cuBLAS
// calls the engine makes, so that the CUDA engine's own code (its launches,
// buffer layout, cuBLAS operand order and copies) runs unchanged, through
// gorgonia.org/cu, on a machine without a GPU. Device memory is host
// memory; kernels are grao.cu compiled for the host (see shim.h) and run
// block by block with one fibre per CUDA thread; cuBLAS is a plain loop in
// float64. build.sh builds it; README.md says what it checks and what it
// cannot.
//
// Every call is checked the way the real driver would refuse it, and some
// ways it would not: copies, memsets and GEMM operands must lie inside one
// allocation, launch shapes within the device limits, and all threads of a
// block must meet at each __syncthreads. A failure prints the reason on
// stderr and returns an error code, which the engine turns into a Go error.

#include <cuda.h>

#include <boost/context/fiber.hpp>
#include <boost/context/pooled_fixedsize_stack.hpp>

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "shim.h"

// The kernels, rewritten by build.sh (dynamic shared memory only).
#include "grao_host.cu"

namespace {

void report(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::fprintf(stderr, "grao cuda emulator: ");
    std::vfprintf(stderr, fmt, ap);
    std::fprintf(stderr, "\n");
    va_end(ap);
}

// trace appends one line per driver or cuBLAS call that does work to the
// file GRAO_CUDA_EMU_TRACE names (nothing when unset): the engine's device
// work, call by call, to count launches, GEMMs, copies and synchronisations.
void trace(const char* fmt, ...) {
    static FILE* f = [] {
        const char* path = std::getenv("GRAO_CUDA_EMU_TRACE");
        return path == nullptr || *path == 0 ? nullptr : std::fopen(path, "w");
    }();
    if (f == nullptr) return;
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(f, fmt, ap);
    std::fputc('\n', f);
    std::fflush(f);
    va_end(ap);
}

// ---- kernels by name ----

template <typename... A, std::size_t... I>
void invokeWith(void (*f)(A...), void** args, std::index_sequence<I...>) {
    f(*static_cast<A*>(args[I])...);
}

// invoke calls f with the launch's argument array, each entry pointing at
// one argument, as cuLaunchKernel's kernelParams.
template <typename... A>
void invoke(void (*f)(A...), void** args) {
    invokeWith(f, args, std::index_sequence_for<A...>{});
}

struct Kernel {
    const char* name;
    void (*call)(void**);
};

#define X(n) {#n, [](void** a) { invoke(n, a); }},
const Kernel kernelTable[] = {
#include "kernels.inc"
};
#undef X

struct Module {
    std::string ptx;
};

// ---- memory ----

std::mutex mu;                          // guards everything below and serialises launches
std::map<CUdeviceptr, size_t> allocs;   // base → size
size_t held = 0;
const size_t totalMem = size_t(16) << 30;

// inside reports whether [p, p+n) lies in one allocation.
bool inside(CUdeviceptr p, size_t n) {
    auto it = allocs.upper_bound(p);
    if (it == allocs.begin()) return false;
    --it;
    return p >= it->first && p + n <= it->first + it->second && p + n >= p;
}

CUresult checkRange(const char* call, CUdeviceptr p, size_t n) {
    if (n == 0 || inside(p, n)) return CUDA_SUCCESS;
    report("%s: [%#llx, +%zu bytes) is not inside one allocation", call, (unsigned long long)p, n);
    return CUDA_ERROR_INVALID_VALUE;
}

// ---- launches ----

namespace ctx = boost::context;

std::vector<ctx::fiber> sinks;   // per CUDA thread: the way back to the launcher

// GRAO_CUDA_EMU_ORDER=reverse runs the blocks of a launch, and the threads
// of a block between two barriers, last first. A kernel whose result
// depends on that order (a missing __syncthreads, blocks writing the same
// element) gives other results in the two orders; a GPU gives no order.
const bool reverse = [] {
    const char* o = std::getenv("GRAO_CUDA_EMU_ORDER");
    return o != nullptr && std::strcmp(o, "reverse") == 0;
}();
unsigned current;                // the CUDA thread now running
std::vector<unsigned char> dynShared;

}  // namespace

grao_emu_dim3 threadIdx, blockIdx, blockDim, gridDim;

namespace {

// A block starts sequential: one fibre runs its threads one after the
// other, which is all a kernel without barriers needs. The first
// __syncthreads (it must come from the block's first thread: any later
// thread means earlier ones returned without meeting it) switches the
// block to one fibre per thread, run round by round, each round taking
// every live thread to its next barrier or its end.
bool sequential;
bool divergent;
std::vector<unsigned char> done;

void runnable(unsigned t) {
    current = t;
    threadIdx = {t % blockDim.x, (t / blockDim.x) % blockDim.y, t / (blockDim.x * blockDim.y)};
}

}  // namespace

void __syncthreads() {
    unsigned t = current;
    if (sequential) {
        sequential = false;
        for (unsigned char d : done) divergent = divergent || d;
    }
    sinks[t] = std::move(sinks[t]).resume();
}

void* grao_emu_dynamic_shared() { return dynShared.data(); }

namespace {

// diverged reports a divergent barrier. The fibres still waiting are then
// destroyed without finishing: their stacks unwind (boost throws
// forced_unwind through them).
bool diverged(const Kernel& k) {
    report("%s: block (%u,%u,%u): threads wait at __syncthreads while others of the block have returned", k.name,
           blockIdx.x, blockIdx.y, blockIdx.z);
    return false;
}

// runBlock runs one block of n threads. A round where some threads end
// and others wait at a barrier is a divergent barrier, undefined in CUDA;
// it is reported and fails the launch.
bool runBlock(const Kernel& k, void** args, unsigned n, ctx::pooled_fixedsize_stack& stacks) {
    auto order = [n](unsigned i) { return reverse ? n - 1 - i : i; };
    done.assign(n, 0);
    sinks.resize(n);
    sequential = true;
    divergent = false;
    std::vector<ctx::fiber> fibers(n);
    unsigned first = order(0);
    fibers[first] = ctx::fiber(std::allocator_arg, stacks, [&k, args, n, order](ctx::fiber&& sink) {
        for (unsigned i = 0; i < n; i++) {
            unsigned t = order(i);
            runnable(t);
            sinks[t] = std::move(sink);
            k.call(args);
            sink = std::move(sinks[t]);
            done[t] = 1;
            if (!sequential) break;  // the others run on fibres of their own
        }
        return std::move(sink);
    });
    fibers[first] = std::move(fibers[first]).resume();
    if (sequential) return true;  // no barrier: every thread has run
    if (divergent) return diverged(k);
    for (unsigned t = 0; t < n; t++) {
        if (t != first) {
            fibers[t] = ctx::fiber(std::allocator_arg, stacks, [t, &k, args](ctx::fiber&& sink) {
                sinks[t] = std::move(sink);
                k.call(args);
                done[t] = 1;
                return std::move(sinks[t]);
            });
        }
    }
    // The first thread waits at its first barrier; the catch-up round
    // brings the others to theirs.
    unsigned live = n;
    bool catchUp = true;
    while (live > 0 && !divergent) {
        unsigned ended = 0, waiting = catchUp ? 1 : 0;
        for (unsigned i = catchUp ? 1 : 0; i < n; i++) {
            unsigned t = order(i);
            if (done[t]) continue;
            runnable(t);
            fibers[t] = std::move(fibers[t]).resume();
            if (done[t]) {
                ended++;
            } else {
                waiting++;
            }
        }
        catchUp = false;
        if (waiting > 0 && (ended > 0 || live < n)) divergent = true;
        live -= ended;
    }
    return divergent ? diverged(k) : true;
}

// Limits of every GPU since sm_70 (the engine's PTX targets sm_80).
const unsigned maxThreads = 1024, maxGridY = 65535, maxGridZ = 65535;
const unsigned maxDynamicShared = 48 << 10;   // without cuFuncSetAttribute

CUresult launch(const Kernel& k, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                unsigned shared, void** params, void** extra) {
    if (extra != nullptr) {
        report("%s: the extra argument form is not emulated", k.name);
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    unsigned long long threads = (unsigned long long)bx * by * bz;
    if (gx == 0 || gy == 0 || gz == 0 || threads == 0 || threads > maxThreads || bz > 64 || gy > maxGridY ||
        gz > maxGridZ || gx > 0x7fffffffu) {
        report("%s: invalid launch shape grid (%u,%u,%u) block (%u,%u,%u)", k.name, gx, gy, gz, bx, by, bz);
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (shared > maxDynamicShared) {
        report("%s: %u bytes of dynamic shared memory, more than %u", k.name, shared, maxDynamicShared);
        return CUDA_ERROR_INVALID_VALUE;
    }
    gridDim = {gx, gy, gz};
    blockDim = {bx, by, bz};
    // Fibre stacks are reused from block to block and launch to launch.
    static ctx::pooled_fixedsize_stack stacks(64 << 10, maxThreads);
    unsigned long long blocks = (unsigned long long)gx * gy * gz;
    for (unsigned long long i = 0; i < blocks; i++) {
        unsigned long long b = reverse ? blocks - 1 - i : i;
        blockIdx = {unsigned(b % gx), unsigned(b / gx % gy), unsigned(b / gx / gy)};
        // A block's shared memory starts as garbage on a GPU: NaN bytes
        // make a read before a write show.
        dynShared.assign(shared, 0xff);
        if (!runBlock(k, params, (unsigned)threads, stacks)) return CUDA_ERROR_LAUNCH_FAILED;
    }
    return CUDA_SUCCESS;
}

// ---- contexts and devices ----

struct Context {};  // a handle: every context shares the one device's memory
thread_local std::vector<CUcontext> ctxStack;

CUresult device(CUdevice d) { return d == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE; }

// ---- cuBLAS ----

// Column-major extent of a rows×cols operand with leading dimension ld.
size_t extent(int rows, int cols, int ld) { return rows == 0 || cols == 0 ? 0 : (size_t)(cols - 1) * ld + rows; }

enum { blasOK = 0, blasInvalid = 7, blasFailed = 13 };

struct Handle {
    int magic;
};

template <typename T>
int gemm(const char* call, void* h, int ta, int tb, int m, int n, int k, const T* alpha, const T* a, int lda,
         long long sa, const T* b, int ldb, long long sb, const T* beta, T* c, int ldc, long long sc, int batch) {
    if (h == nullptr || static_cast<Handle*>(h)->magic != 0x67726130) {
        report("%s: not a handle from cublasCreate", call);
        return 1;  // CUBLAS_STATUS_NOT_INITIALIZED
    }
    int rowsA = ta ? k : m, colsA = ta ? m : k, rowsB = tb ? n : k, colsB = tb ? k : n;
    if ((ta != 0 && ta != 1) || (tb != 0 && tb != 1) || m < 0 || n < 0 || k < 0 || batch < 0 ||
        lda < (rowsA > 1 ? rowsA : 1) || ldb < (rowsB > 1 ? rowsB : 1) || ldc < (m > 1 ? m : 1)) {
        report("%s: invalid arguments transa=%d transb=%d m=%d n=%d k=%d lda=%d ldb=%d ldc=%d batch=%d", call, ta, tb, m,
               n, k, lda, ldb, ldc, batch);
        return blasInvalid;
    }
    std::lock_guard<std::mutex> lock(mu);
    trace("gemm %s %d %d %d %d", call, m, n, k, batch);
    for (int s = 0; s < batch; s++) {
        const T* A = a + s * sa;
        const T* B = b + s * sb;
        T* C = c + s * sc;
        size_t es = sizeof(T);
        if ((k > 0 && m > 0 && !inside((CUdeviceptr)A, es * extent(rowsA, colsA, lda))) ||
            (k > 0 && n > 0 && !inside((CUdeviceptr)B, es * extent(rowsB, colsB, ldb))) ||
            (m > 0 && n > 0 && !inside((CUdeviceptr)C, es * extent(m, n, ldc)))) {
            report("%s: batch %d: an operand is not inside one allocation (m=%d n=%d k=%d lda=%d ldb=%d ldc=%d)", call, s,
                   m, n, k, lda, ldb, ldc);
            return blasFailed;
        }
        // op(A) by rows and each column of op(B), contiguous in p.
        std::vector<double> rowsA((size_t)m * k), colB(k);
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++) rowsA[(size_t)i * k + p] = ta ? A[p + (size_t)i * lda] : A[i + (size_t)p * lda];
        for (int j = 0; j < n; j++) {
            for (int p = 0; p < k; p++) colB[p] = tb ? B[j + (size_t)p * ldb] : B[p + (size_t)j * ldb];
            for (int i = 0; i < m; i++) {
                const double* x = &rowsA[(size_t)i * k];
                double acc = 0;
                for (int p = 0; p < k; p++) acc += x[p] * colB[p];
                T& out = C[i + (size_t)j * ldc];
                // beta == 0 does not read C (it may hold NaNs), as cuBLAS.
                out = *beta == 0 ? T(*alpha * acc) : T(*alpha * acc + *beta * out);
            }
        }
    }
    return blasOK;
}

}  // namespace

extern "C" {

// ---- driver: initialisation, devices, contexts ----

CUresult cuInit(unsigned int flags) { return flags == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE; }

CUresult cuDriverGetVersion(int* v) {
    *v = CUDA_VERSION;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int* n) {
    *n = 1;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice* d, int ordinal) {
    if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
    *d = 0;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char* name, int len, CUdevice d) {
    if (CUresult r = device(d)) return r;
    std::snprintf(name, len, "grao CPU emulator");
    return CUDA_SUCCESS;
}

CUresult cuDeviceTotalMem(size_t* bytes, CUdevice d) {
    if (CUresult r = device(d)) return r;
    *bytes = totalMem;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int* v, CUdevice_attribute attr, CUdevice d) {
    if (CUresult r = device(d)) return r;
    switch (attr) {
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *v = 8; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *v = 0; break;
    case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *v = maxThreads; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: *v = maxDynamicShared; break;
    case CU_DEVICE_ATTRIBUTE_WARP_SIZE: *v = 32; break;
    case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *v = 1; break;
    default: report("cuDeviceGetAttribute: attribute %d is not emulated", (int)attr); return CUDA_ERROR_NOT_SUPPORTED;
    }
    return CUDA_SUCCESS;
}

CUresult cuCtxCreate(CUcontext* c, unsigned int flags, CUdevice d) {
    (void)flags;
    if (CUresult r = device(d)) return r;
    *c = reinterpret_cast<CUcontext>(new Context{});
    ctxStack.push_back(*c);
    return CUDA_SUCCESS;
}

CUresult cuCtxDestroy(CUcontext c) {
    if (c == nullptr) return CUDA_ERROR_INVALID_CONTEXT;
    for (auto it = ctxStack.begin(); it != ctxStack.end();)
        it = *it == c ? ctxStack.erase(it) : it + 1;
    delete reinterpret_cast<Context*>(c);
    return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext c) {
    if (ctxStack.empty()) {
        ctxStack.push_back(c);
    } else {
        ctxStack.back() = c;
    }
    return CUDA_SUCCESS;
}

CUresult cuCtxGetCurrent(CUcontext* c) {
    *c = ctxStack.empty() ? nullptr : ctxStack.back();
    return CUDA_SUCCESS;
}

CUresult cuCtxPushCurrent(CUcontext c) {
    ctxStack.push_back(c);
    return CUDA_SUCCESS;
}

CUresult cuCtxPopCurrent(CUcontext* c) {
    if (ctxStack.empty()) return CUDA_ERROR_INVALID_CONTEXT;
    if (c != nullptr) *c = ctxStack.back();
    ctxStack.pop_back();
    return CUDA_SUCCESS;
}

// Everything runs synchronously on the calling thread.
CUresult cuCtxSynchronize(void) {
    trace("sync");
    return CUDA_SUCCESS;
}

// ---- driver: memory ----

CUresult cuMemAlloc(CUdeviceptr* p, size_t bytes) {
    if (bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    std::lock_guard<std::mutex> lock(mu);
    if (held + bytes > totalMem) return CUDA_ERROR_OUT_OF_MEMORY;
    void* m = nullptr;
    if (posix_memalign(&m, 256, bytes) != 0) return CUDA_ERROR_OUT_OF_MEMORY;
    // Fresh device memory is not zeroed: NaN bytes make a read before a
    // write show.
    std::memset(m, 0xff, bytes);
    *p = (CUdeviceptr)m;
    allocs[*p] = bytes;
    held += bytes;
    return CUDA_SUCCESS;
}

CUresult cuMemFree(CUdeviceptr p) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = allocs.find(p);
    if (it == allocs.end()) {
        report("cuMemFree: %#llx is not an allocation", (unsigned long long)p);
        return CUDA_ERROR_INVALID_VALUE;
    }
    held -= it->second;
    allocs.erase(it);
    std::free(reinterpret_cast<void*>(p));
    return CUDA_SUCCESS;
}

CUresult cuMemGetInfo(size_t* freeBytes, size_t* total) {
    std::lock_guard<std::mutex> lock(mu);
    *freeBytes = totalMem - held;
    *total = totalMem;
    return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoD(CUdeviceptr dst, const void* src, size_t n) {
    std::lock_guard<std::mutex> lock(mu);
    if (CUresult r = checkRange("cuMemcpyHtoD", dst, n)) return r;
    trace("htod %zu", n);
    std::memcpy(reinterpret_cast<void*>(dst), src, n);
    return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoH(void* dst, CUdeviceptr src, size_t n) {
    std::lock_guard<std::mutex> lock(mu);
    if (CUresult r = checkRange("cuMemcpyDtoH", src, n)) return r;
    trace("dtoh %zu", n);
    std::memcpy(dst, reinterpret_cast<void*>(src), n);
    return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoD(CUdeviceptr dst, CUdeviceptr src, size_t n) {
    std::lock_guard<std::mutex> lock(mu);
    if (CUresult r = checkRange("cuMemcpyDtoD (destination)", dst, n)) return r;
    if (CUresult r = checkRange("cuMemcpyDtoD (source)", src, n)) return r;
    trace("dtod %zu", n);
    std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<void*>(src), n);
    return CUDA_SUCCESS;
}

CUresult cuMemsetD32(CUdeviceptr dst, unsigned int v, size_t n) {
    std::lock_guard<std::mutex> lock(mu);
    if (dst % 4 != 0) return CUDA_ERROR_INVALID_VALUE;
    if (CUresult r = checkRange("cuMemsetD32", dst, 4 * n)) return r;
    trace("memset %zu", 4 * n);
    unsigned int* p = reinterpret_cast<unsigned int*>(dst);
    for (size_t i = 0; i < n; i++) p[i] = v;
    return CUDA_SUCCESS;
}

// ---- driver: modules and launches ----

CUresult cuModuleLoadData(CUmodule* m, const void* image) {
    const char* text = static_cast<const char*>(image);
    if (text == nullptr || std::strstr(text, ".entry") == nullptr) {
        report("cuModuleLoadData: the image is not PTX text with entries");
        return CUDA_ERROR_INVALID_IMAGE;
    }
    *m = reinterpret_cast<CUmodule>(new Module{text});
    return CUDA_SUCCESS;
}

CUresult cuModuleLoadDataEx(CUmodule* m, const void* image, unsigned int n, CUjit_option* o, void** v) {
    (void)n, (void)o, (void)v;
    return cuModuleLoadData(m, image);
}

CUresult cuModuleUnload(CUmodule m) {
    delete reinterpret_cast<Module*>(m);
    return CUDA_SUCCESS;
}

// A function must be both an entry of the PTX the engine loaded and a
// kernel of grao.cu: the PTX the GPU would run and the source emulated
// here then name the same kernels.
CUresult cuModuleGetFunction(CUfunction* f, CUmodule m, const char* name) {
    const Module* mod = reinterpret_cast<const Module*>(m);
    std::string entry = std::string(".entry ") + name + "(";
    if (mod == nullptr || mod->ptx.find(entry) == std::string::npos) {
        report("cuModuleGetFunction: the PTX has no entry %s", name);
        return CUDA_ERROR_NOT_FOUND;
    }
    for (const Kernel& k : kernelTable) {
        if (std::strcmp(k.name, name) == 0) {
            *f = reinterpret_cast<CUfunction>(const_cast<Kernel*>(&k));
            return CUDA_SUCCESS;
        }
    }
    report("cuModuleGetFunction: grao.cu has no kernel %s", name);
    return CUDA_ERROR_NOT_FOUND;
}

CUresult cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx,
                        unsigned int by, unsigned int bz, unsigned int shared, CUstream stream, void** params,
                        void** extra) {
    (void)stream;  // every launch completes before it returns
    if (f == nullptr) return CUDA_ERROR_INVALID_HANDLE;
    std::lock_guard<std::mutex> lock(mu);
    const Kernel& k = *reinterpret_cast<const Kernel*>(f);
    trace("launch %s %u %u %u", k.name, gx, gy, bx * by * bz);
    return launch(k, gx, gy, gz, bx, by, bz, shared, params, extra);
}

// ---- driver: events (the engine's profile, GRAO_CUDA_PROFILE) ----

// Every call has finished when it returns, so an event is the host's
// clock when it was recorded: elapsed times are the emulator's, not a GPU's.
struct Event {
    double ms = -1;  // not recorded yet
};

CUresult cuEventCreate(CUevent* e, unsigned int flags) {
    if (flags != CU_EVENT_DEFAULT) return CUDA_ERROR_NOT_SUPPORTED;
    *e = reinterpret_cast<CUevent>(new Event);
    return CUDA_SUCCESS;
}

CUresult cuEventDestroy(CUevent e) {
    delete reinterpret_cast<Event*>(e);
    return CUDA_SUCCESS;
}

CUresult cuEventRecord(CUevent e, CUstream stream) {
    (void)stream;
    if (e == nullptr) return CUDA_ERROR_INVALID_HANDLE;
    auto now = std::chrono::steady_clock::now().time_since_epoch();
    reinterpret_cast<Event*>(e)->ms = std::chrono::duration<double, std::milli>(now).count();
    return CUDA_SUCCESS;
}

CUresult cuEventSynchronize(CUevent e) { return e == nullptr ? CUDA_ERROR_INVALID_HANDLE : CUDA_SUCCESS; }

CUresult cuEventQuery(CUevent e) { return e == nullptr ? CUDA_ERROR_INVALID_HANDLE : CUDA_SUCCESS; }

CUresult cuEventElapsedTime(float* ms, CUevent start, CUevent end) {
    const Event *a = reinterpret_cast<Event*>(start), *b = reinterpret_cast<Event*>(end);
    if (a == nullptr || b == nullptr) return CUDA_ERROR_INVALID_HANDLE;
    if (a->ms < 0 || b->ms < 0) {
        report("cuEventElapsedTime: an event was not recorded");
        return CUDA_ERROR_NOT_READY;
    }
    *ms = float(b->ms - a->ms);
    return CUDA_SUCCESS;
}

CUresult cuGetErrorString(CUresult e, const char** s) {
    (void)e;
    *s = "error reported by the grao CPU emulator (see its message on stderr)";
    return CUDA_SUCCESS;
}

// ---- cuBLAS: the calls of kernels/cuda ----

int cublasCreate_v2(void** h) {
    *h = new Handle{0x67726130};
    return blasOK;
}

int cublasDestroy_v2(void* h) {
    delete static_cast<Handle*>(h);
    return blasOK;
}

int cublasSgemm_v2(void* h, int ta, int tb, int m, int n, int k, const float* alpha, const float* a, int lda,
                   const float* b, int ldb, const float* beta, float* c, int ldc) {
    return gemm("cublasSgemm", h, ta, tb, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1);
}

int cublasDgemm_v2(void* h, int ta, int tb, int m, int n, int k, const double* alpha, const double* a, int lda,
                   const double* b, int ldb, const double* beta, double* c, int ldc) {
    return gemm("cublasDgemm", h, ta, tb, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1);
}

int cublasSgemmStridedBatched(void* h, int ta, int tb, int m, int n, int k, const float* alpha, const float* a,
                              int lda, long long sa, const float* b, int ldb, long long sb, const float* beta, float* c,
                              int ldc, long long sc, int batch) {
    return gemm("cublasSgemmStridedBatched", h, ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc,
                batch);
}

// The stubs build.sh generates for every other driver entry point.
CUresult grao_emu_unsupported(const char* name) {
    report("%s is not emulated", name);
    return CUDA_ERROR_NOT_SUPPORTED;
}

}  // extern "C"
