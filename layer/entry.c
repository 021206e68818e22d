/* The layer's two executables, built from this file by layer/build_layer.py:
 *
 *   bootstrap  provided.al2023 entry point. Lambda runs /opt/bootstrap [HANDLER]; it execs
 *              <python> /opt/fastrt-launch.py [HANDLER], <python> being, first found wins: the
 *              interpreter bundled in this layer (build-layer.sh --bundle-python, its lib dir put
 *              first on LD_LIBRARY_PATH as the managed runtimes do with /var/lang/lib),
 *              $FASTRT_PYTHON (a path, or a command name looked up on PATH), python3 on PATH.
 *   fastrt     (-DFASTRT_EXEC_WRAPPER) AWS_LAMBDA_EXEC_WRAPPER of the managed python3.x runtimes.
 *              Lambda runs /opt/fastrt <interpreter> /var/runtime/bootstrap.py; it execs
 *              <interpreter> /opt/fastrt-launch.py, dropping the stock runtime client.
 *
 * Both run at every cold start and only choose what to exec. As shell scripts they cost a
 * shell's start-up first: ~0.7 ms with dash, ~1.5 ms with bash, which is /bin/sh on Amazon
 * Linux. This is a static executable with no libc and no dynamic loader (raw system calls on
 * x86_64 and aarch64, Lambda's two architectures): exec'ing it costs ~0.1 ms.
 *
 * The layer is the directory of this executable's real path (/proc/self/exe), so it runs from
 * wherever the layer is unpacked, through symbolic links too.
 */

typedef unsigned long size_t;

#define AT_FDCWD (-100)
#define X_OK 1
#define PATH_MAX 4096
/* What `command -v` searches when PATH is unset (dash's default). */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#if defined(__x86_64__)
#define SYS_write 1
#define SYS_execve 59
#define SYS_exit_group 231
#define SYS_readlinkat 267
#define SYS_faccessat 269

static long sys4(long n, long a, long b, long c, long d)
{
    register long r10 __asm__("r10") = d;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}

/* The kernel enters with argc at the stack pointer; hand that address to start(). */
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "    xor %ebp, %ebp\n"
        "    mov %rsp, %rdi\n"
        "    and $-16, %rsp\n"
        "    call start\n"
        "    hlt\n");

#elif defined(__aarch64__)
#define SYS_faccessat 48
#define SYS_readlinkat 78
#define SYS_write 64
#define SYS_exit_group 94
#define SYS_execve 221

static long sys4(long n, long a, long b, long c, long d)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
    return x0;
}

__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "    mov x29, #0\n"
        "    mov x30, #0\n"
        "    mov x0, sp\n"
        "    bl start\n"
        "    brk #0\n");

#else
#error "fastrt's entry points are built for Lambda's architectures: x86_64 and aarch64"
#endif

/* The compiler may turn a copy loop into a call of these, and there is no libc to provide them. */
void *memcpy(void *dst, const void *src, size_t n)
{
    char *d = dst;
    const char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    char *d = dst;
    while (n--)
        *d++ = (char)c;
    return dst;
}

static size_t length(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* Copies src to dst, returns the end of dst; the caller's buffer is always large enough. */
static char *append(char *dst, const char *src)
{
    while (*src)
        *dst++ = *src++;
    *dst = 0;
    return dst;
}

static int has_slash(const char *s)
{
    for (; *s; s++)
        if (*s == '/')
            return 1;
    return 0;
}

static void say(const char *message)
{
    sys4(SYS_write, 2, (long)message, (long)length(message), 0);
}

__attribute__((noreturn)) static void leave(int code)
{
    for (;;)
        sys4(SYS_exit_group, code, 0, 0, 0);
}

/* Returns only if the exec failed. */
static void run(const char *path, char **argv, char **envp)
{
    argv[0] = (char *)path;
    sys4(SYS_execve, (long)path, (long)argv, (long)envp, 0);
}

#ifndef FASTRT_EXEC_WRAPPER
/* What only the bootstrap needs: the environment, and a PATH search. */

/* The value of `entry` ("NAME=value") when its name is `name`, else 0. */
static const char *value_if_named(const char *entry, const char *name)
{
    while (*name && *entry == *name) {
        entry++;
        name++;
    }
    return (*name == 0 && *entry == '=') ? entry + 1 : 0;
}

static const char *getenv_from(char **envp, const char *name)
{
    for (; *envp; envp++) {
        const char *value = value_if_named(*envp, name);
        if (value)
            return value;
    }
    return 0;
}

/* `name` tried in each PATH directory in turn, as exec does; returns only if none ran. */
static void run_from_path(const char *name, char **argv, char **envp)
{
    const char *search = getenv_from(envp, "PATH");
    if (!search)
        search = DEFAULT_PATH;
    size_t name_length = length(name);
    while (1) {
        const char *end = search;
        while (*end && *end != ':')
            end++;
        size_t dir_length = (size_t)(end - search);
        if (dir_length + name_length + 2 <= PATH_MAX) {
            char candidate[PATH_MAX];
            char *p = candidate;
            for (size_t i = 0; i < dir_length; i++)
                *p++ = search[i];
            if (dir_length) /* an empty entry is the current directory */
                *p++ = '/';
            append(p, name);
            run(candidate, argv, envp);
        }
        if (!*end)
            return;
        search = end + 1;
    }
}
#endif

void start(long *stack) __attribute__((used, noreturn));

void start(long *stack)
{
    int argc = (int)stack[0];
    char **argv = (char **)(stack + 1);
    char **envp = argv + argc + 1;

    char layer[PATH_MAX];
    long n = sys4(SYS_readlinkat, AT_FDCWD, (long)"/proc/self/exe", (long)layer, sizeof layer - 1);
    if (n <= 0) {
        /* No /proc: the path this was started by. */
        if (argc < 1 || !has_slash(argv[0]) || length(argv[0]) >= sizeof layer) {
            say("fastrt: cannot tell where the layer is (no /proc/self/exe, no path in argv[0])\n");
            leave(127);
        }
        n = (long)(append(layer, argv[0]) - layer);
    }
    layer[n] = 0;
    while (n > 0 && layer[n - 1] != '/')
        n--;
    layer[n > 1 ? n - 1 : n] = 0; /* the directory, "/" kept for a file at the root */

    char launch[PATH_MAX + 32];
    append(append(launch, layer), "/fastrt-launch.py");

#ifdef FASTRT_EXEC_WRAPPER
    if (argc < 2) {
        say("fastrt: expected the interpreter path as the first argument, as Lambda passes it to "
            "AWS_LAMBDA_EXEC_WRAPPER on the python3.x runtimes (on provided.al2023 use the layer's "
            "bootstrap instead)\n");
        leave(2);
    }
    char *wrapped[3] = {argv[1], launch, 0};
    run(argv[1], wrapped, envp);
    say("fastrt: cannot execute the interpreter ");
    say(argv[1]);
    say("\n");
    leave(127);
#else
    /* <python> fastrt-launch.py, then the arguments Lambda (or the RIE) gave. */
    char *args[argc + 3];
    int count = 0;
    args[count++] = 0; /* the interpreter's path, set by run() */
    args[count++] = launch;
    for (int i = 1; i < argc; i++)
        args[count++] = argv[i];
    args[count] = 0;

    char bundled[PATH_MAX + 32];
    append(append(bundled, layer), "/fastrt-python/bin/python3");
    if (sys4(SYS_faccessat, AT_FDCWD, (long)bundled, X_OK, 0) == 0) {
        const char *old = getenv_from(envp, "LD_LIBRARY_PATH");
        char library_path[length(layer) + (old ? length(old) : 0) + 64];
        char *p = append(append(append(library_path, "LD_LIBRARY_PATH="), layer), "/fastrt-python/lib");
        if (old && *old)
            append(append(p, ":"), old);
        int variables = 0;
        while (envp[variables])
            variables++;
        char *environment[variables + 2];
        int kept = 0;
        for (int i = 0; i < variables; i++)
            if (!value_if_named(envp[i], "LD_LIBRARY_PATH"))
                environment[kept++] = envp[i];
        environment[kept++] = library_path;
        environment[kept] = 0;
        run(bundled, args, environment);
        say("fastrt bootstrap: cannot execute the bundled interpreter ");
        say(bundled);
        say("\n");
        leave(127);
    }

    const char *chosen = getenv_from(envp, "FASTRT_PYTHON");
    if (chosen && *chosen) {
        if (has_slash(chosen))
            run(chosen, args, envp);
        else
            run_from_path(chosen, args, envp);
        say("fastrt bootstrap: FASTRT_PYTHON=");
        say(chosen);
        say(" is not an executable\n");
        leave(127);
    }

    run_from_path("python3", args, envp);
    const char *search = getenv_from(envp, "PATH");
    say("fastrt bootstrap: no Python interpreter found. Tried, in order: ");
    say(bundled);
    say(" (this layer was built without --bundle-python), $FASTRT_PYTHON (unset), python3 on PATH (");
    say(search ? search : DEFAULT_PATH);
    say("). Rebuild the layer with build-layer.sh --docker --bundle-python, or set FASTRT_PYTHON.\n");
    leave(127);
#endif
}
