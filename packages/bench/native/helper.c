/*
 * helper.c — a tiny, test-only Node-API addon for the benchmark (plain C, no node-addon-api).
 *
 * Node cannot create socketpairs, and fs.readSync/fs.writeSync throw on EAGAIN and cost about a
 * microsecond each above the syscall. This addon gives the bench:
 *   socketpairs(n)          -> Int32Array [a0, b0, a1, b1, ...] (AF_UNIX stream, non-blocking, cloexec)
 *   closeAll(fds)           close every fd of an Int32Array
 *   read1(fd) / write1(fd)  one read into a 64-byte scratch buffer / one 1-byte write;
 *                           bytes or -errno, never throws
 *
 *   uvPoll(fd, callback)    a libuv uv_poll_t watching fd for readability; callback(fd) is called
 *                           once per event through napi_make_callback (as Node calls its own
 *                           callbacks). The "uv-poll" diagnostic row: Node's own per-fd watcher with no
 *                           nested epoll and no batching, i.e. the floor of event-loop delivery.
 *   uvPoll(fd, callback, true)  the same, and each event first asks poll(2) for the fd's exact
 *                           revents (what one uv_poll_t per fd would need to report POLL_HANGUP and
 *                           POLL_ERROR as epoll does: libuv folds HUP into readable and turns ERR
 *                           into a stopped watch): the "uv-poll-exact" diagnostic row
 *   uvPollBatched(fds, buffer, callback)
 *                           one uv_poll_t per fd as above, but asking for UV_READABLE|UV_DISCONNECT,
 *                           with the events of one loop iteration gathered in C and handed to JS in
 *                           one call from a uv_check_t (callback(count), (fd, revents) pairs in the
 *                           Int32Array): direct watching with batches. poll(2) runs only when libuv
 *                           reports UV_DISCONNECT or an error, which on a socket is exactly when the
 *                           fd may also carry a hang-up or an error: the "uv-poll-batched" row
 *   uvPollCloseAll()        stops and closes every uvPoll watcher
 *
 * libuv is looked up in the process when a uvPoll function is first called (dlsym), not linked,
 * so the addon also loads in a runtime without libuv (Deno, which refuses an addon that needs uv_*
 * symbols): there only the uvPoll functions throw.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <node_api.h>
#include <stdint.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>

#define CHECK(call)                                                                                                    \
    do {                                                                                                               \
        if ((call) != napi_ok) {                                                                                       \
            napi_throw_error(env, NULL, "bench helper: " #call " failed");                                             \
            return NULL;                                                                                               \
        }                                                                                                              \
    } while (0)

static struct {
    int (*poll_init)(uv_loop_t *, uv_poll_t *, int);
    int (*poll_start)(uv_poll_t *, int, uv_poll_cb);
    int (*check_init)(uv_loop_t *, uv_check_t *);
    int (*check_start)(uv_check_t *, uv_check_cb);
    int (*check_stop)(uv_check_t *);
    void (*close)(uv_handle_t *, uv_close_cb);
    const char *(*strerror)(int);
} uv;

/* Whether this process has libuv; throws in JS when it has not. */
static int have_uv(napi_env env)
{
    static int state; /* 0: not looked up yet, 1: found, -1: missing */
    if (state == 0) {
        *(void **)&uv.poll_init = dlsym(RTLD_DEFAULT, "uv_poll_init");
        *(void **)&uv.poll_start = dlsym(RTLD_DEFAULT, "uv_poll_start");
        *(void **)&uv.check_init = dlsym(RTLD_DEFAULT, "uv_check_init");
        *(void **)&uv.check_start = dlsym(RTLD_DEFAULT, "uv_check_start");
        *(void **)&uv.check_stop = dlsym(RTLD_DEFAULT, "uv_check_stop");
        *(void **)&uv.close = dlsym(RTLD_DEFAULT, "uv_close");
        *(void **)&uv.strerror = dlsym(RTLD_DEFAULT, "uv_strerror");
        state = uv.poll_init && uv.poll_start && uv.check_init && uv.check_start && uv.check_stop && uv.close &&
                        uv.strerror
                    ? 1
                    : -1;
    }
    if (state < 0) napi_throw_error(env, NULL, "bench helper: this runtime has no libuv, so the uv-poll rows cannot run");
    return state > 0;
}

static napi_value make_int(napi_env env, int64_t v)
{
    napi_value out;
    if (napi_create_int64(env, v, &out) != napi_ok) return NULL;
    return out;
}

static int get_int_arg(napi_env env, napi_callback_info info, size_t want, napi_value *argv, int32_t *out)
{
    size_t argc = want;
    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) return -1;
    for (size_t i = 0; i < want && out; i++) {
        napi_valuetype t;
        if (napi_typeof(env, argv[i], &t) != napi_ok || t != napi_number) continue;
        if (napi_get_value_int32(env, argv[i], &out[i]) != napi_ok) return -1;
    }
    return 0;
}

/* Int32Array argument -> pointer + length. */
static int32_t *get_i32(napi_env env, napi_value v, size_t *len)
{
    napi_typedarray_type type;
    void *data;
    napi_value ab;
    size_t off;
    if (napi_get_typedarray_info(env, v, &type, len, &data, &ab, &off) != napi_ok || type != napi_int32_array) {
        napi_throw_type_error(env, NULL, "bench helper: expected an Int32Array");
        return NULL;
    }
    return data;
}

static napi_value js_socketpairs(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    int32_t n = 0;
    if (get_int_arg(env, info, 1, argv, &n) < 0 || n < 1) {
        napi_throw_type_error(env, NULL, "socketpairs(n): n must be a positive integer");
        return NULL;
    }
    napi_value ab, arr;
    void *data;
    CHECK(napi_create_arraybuffer(env, sizeof(int32_t) * 2 * (size_t)n, &data, &ab));
    int32_t *fds = data;
    for (int32_t i = 0; i < n; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
            int err = errno;
            for (int32_t j = 0; j < 2 * i; j++) close(fds[j]);
            napi_value e, msg, code;
            napi_create_string_utf8(env, "socketpair failed", NAPI_AUTO_LENGTH, &msg);
            napi_create_error(env, NULL, msg, &e);
            napi_create_int32(env, -err, &code);
            napi_set_named_property(env, e, "errno", code);
            napi_throw(env, e);
            return NULL;
        }
        fds[2 * i] = sv[0];
        fds[2 * i + 1] = sv[1];
    }
    CHECK(napi_create_typedarray(env, napi_int32_array, 2 * (size_t)n, ab, 0, &arr));
    return arr;
}

static napi_value js_close_all(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    size_t len;
    if (get_int_arg(env, info, 1, argv, NULL) < 0) return NULL;
    int32_t *fds = get_i32(env, argv[0], &len);
    if (!fds) return NULL;
    for (size_t i = 0; i < len; i++)
        if (fds[i] >= 0) close(fds[i]);
    return NULL;
}

static napi_value js_read1(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    int32_t fd = -1;
    char buf[64];
    if (get_int_arg(env, info, 1, argv, &fd) < 0) return NULL;
    ssize_t r = read(fd, buf, sizeof buf);
    return make_int(env, r < 0 ? -errno : r);
}

static napi_value js_write1(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    int32_t fd = -1;
    if (get_int_arg(env, info, 1, argv, &fd) < 0) return NULL;
    ssize_t r = write(fd, "x", 1);
    return make_int(env, r < 0 ? -errno : r);
}

/* fds + count (count <= fds.length). */
/* ---- uvPoll: one uv_poll_t per fd, one JS call per event ---------------------------------------- */

typedef struct watch {
    uv_poll_t handle;
    napi_env env;
    napi_ref callback;
    napi_async_context context;
    int fd;
    int exact;
    int batched;
    struct watch *next;
} watch_t;

static watch_t *watches;

/* uvPollBatched: the events of one loop iteration, delivered from the check phase. */
static struct {
    uv_check_t check;
    int check_ready;
    napi_env env;
    napi_ref callback;
    napi_async_context context;
    int32_t *out;      /* the JS Int32Array: (fd, revents) pairs */
    size_t capacity;   /* pairs */
    size_t count;
    napi_ref buffer;
} gathered;

static void on_check(uv_check_t *check)
{
    uv.check_stop(check);
    size_t k = gathered.count;
    gathered.count = 0;
    if (k == 0) return;
    napi_env env = gathered.env;
    napi_handle_scope scope;
    napi_value cb, recv, arg, result;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_get_reference_value(env, gathered.callback, &cb);
    napi_get_global(env, &recv);
    napi_create_int32(env, (int32_t)k, &arg);
    if (napi_make_callback(env, gathered.context, recv, cb, 1, &arg, &result) == napi_pending_exception) {
        napi_value exc;
        napi_get_and_clear_last_exception(env, &exc);
        napi_fatal_exception(env, exc);
    }
    napi_close_handle_scope(env, scope);
}

static void on_poll_batched(uv_poll_t *handle, int status, int events)
{
    watch_t *w = handle->data;
    int revents = 0;
    if (status < 0 || (events & UV_DISCONNECT)) {
        /* The only cases where a socket may carry a hang-up or an error: ask the kernel. */
        struct pollfd pfd = { .fd = w->fd, .events = POLLIN | POLLPRI | POLLRDHUP };
        revents = poll(&pfd, 1, 0) < 0 ? POLLNVAL : pfd.revents;
        if (status < 0) uv.poll_start(handle, UV_READABLE | UV_DISCONNECT, on_poll_batched);
    } else {
        if (events & UV_READABLE) revents |= POLLIN;
        if (events & UV_PRIORITIZED) revents |= POLLPRI;
    }
    if (gathered.count == gathered.capacity) return; /* the level-triggered fd comes back next turn */
    gathered.out[2 * gathered.count] = w->fd;
    gathered.out[2 * gathered.count + 1] = revents;
    if (gathered.count++ == 0) uv.check_start(&gathered.check, on_check);
}

static void on_poll(uv_poll_t *handle, int status, int events)
{
    (void)events;
    watch_t *w = handle->data;
    napi_env env = w->env;
    if (w->exact) {
        struct pollfd pfd = { .fd = w->fd, .events = POLLIN | POLLPRI | POLLRDHUP };
        if (poll(&pfd, 1, 0) < 0) status = -errno;
    }
    napi_handle_scope scope;
    napi_value cb, recv, arg, result;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_get_reference_value(env, w->callback, &cb);
    napi_get_global(env, &recv); /* MakeCallback wants an object receiver */
    napi_create_int32(env, status < 0 ? status : w->fd, &arg);
    if (napi_make_callback(env, w->context, recv, cb, 1, &arg, &result) == napi_pending_exception) {
        napi_value exc;
        napi_get_and_clear_last_exception(env, &exc);
        napi_fatal_exception(env, exc);
    }
    napi_close_handle_scope(env, scope);
}

static napi_value js_uv_poll(napi_env env, napi_callback_info info)
{
    napi_value argv[3], name;
    int32_t fd = -1;
    size_t argc = 3;
    bool exact = false;
    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (!have_uv(env)) return NULL;
    if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
        napi_throw_type_error(env, NULL, "uvPoll(fd: number, callback: (fd) => void)");
        return NULL;
    }
    uv_loop_t *loop;
    CHECK(napi_get_uv_event_loop(env, &loop));
    watch_t *w = calloc(1, sizeof *w);
    if (!w) {
        napi_throw_error(env, NULL, "out of memory");
        return NULL;
    }
    if (argc > 2) napi_get_value_bool(env, argv[2], &exact);
    w->env = env;
    w->fd = fd;
    w->exact = exact;
    w->handle.data = w;
    CHECK(napi_create_reference(env, argv[1], 1, &w->callback));
    CHECK(napi_create_string_utf8(env, "benchUvPoll", NAPI_AUTO_LENGTH, &name));
    CHECK(napi_async_init(env, NULL, name, &w->context));
    int rc = uv.poll_init(loop, &w->handle, fd);
    if (rc == 0) rc = uv.poll_start(&w->handle, UV_READABLE, on_poll);
    if (rc != 0) {
        napi_throw_error(env, NULL, uv.strerror(rc));
        return NULL;
    }
    w->next = watches;
    watches = w;
    return NULL;
}

static void on_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static napi_value js_uv_poll_batched(napi_env env, napi_callback_info info)
{
    napi_value argv[3], name;
    size_t argc = 3, nfds = 0, cap = 0;
    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (!have_uv(env)) return NULL;
    int32_t *fds = argc == 3 ? get_i32(env, argv[0], &nfds) : NULL;
    int32_t *out = argc == 3 ? get_i32(env, argv[1], &cap) : NULL;
    if (!fds || !out || cap < 2 || gathered.callback) {
        napi_throw_type_error(env, NULL, "uvPollBatched(fds: Int32Array, buffer: Int32Array, callback), once");
        return NULL;
    }
    uv_loop_t *loop;
    CHECK(napi_get_uv_event_loop(env, &loop));
    if (!gathered.check_ready) {
        uv.check_init(loop, &gathered.check);
        gathered.check_ready = 1;
    }
    gathered.env = env;
    gathered.out = out;
    gathered.capacity = cap / 2;
    gathered.count = 0;
    CHECK(napi_create_reference(env, argv[1], 1, &gathered.buffer));
    CHECK(napi_create_reference(env, argv[2], 1, &gathered.callback));
    CHECK(napi_create_string_utf8(env, "benchUvPollBatched", NAPI_AUTO_LENGTH, &name));
    CHECK(napi_async_init(env, NULL, name, &gathered.context));
    for (size_t i = 0; i < nfds; i++) {
        watch_t *w = calloc(1, sizeof *w);
        if (!w) {
            napi_throw_error(env, NULL, "out of memory");
            return NULL;
        }
        w->env = env;
        w->fd = fds[i];
        w->batched = 1;
        w->handle.data = w;
        int rc = uv.poll_init(loop, &w->handle, w->fd);
        if (rc == 0) rc = uv.poll_start(&w->handle, UV_READABLE | UV_DISCONNECT, on_poll_batched);
        if (rc != 0) {
            free(w);
            napi_throw_error(env, NULL, uv.strerror(rc));
            return NULL;
        }
        w->next = watches;
        watches = w;
    }
    return NULL;
}

static napi_value js_uv_poll_close_all(napi_env env, napi_callback_info info)
{
    (void)info;
    while (watches) {
        watch_t *w = watches;
        watches = w->next;
        if (!w->batched) {
            napi_delete_reference(env, w->callback);
            napi_async_destroy(env, w->context);
        }
        uv.close((uv_handle_t *)&w->handle, on_closed);
    }
    if (gathered.callback) {
        uv.check_stop(&gathered.check);
        gathered.count = 0;
        napi_delete_reference(env, gathered.callback);
        napi_delete_reference(env, gathered.buffer);
        napi_async_destroy(env, gathered.context);
        gathered.callback = NULL;
    }
    return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */)
{
    napi_property_descriptor props[] = {
        { "socketpairs", NULL, js_socketpairs, NULL, NULL, NULL, napi_enumerable, NULL },
        { "closeAll", NULL, js_close_all, NULL, NULL, NULL, napi_enumerable, NULL },
        { "read1", NULL, js_read1, NULL, NULL, NULL, napi_enumerable, NULL },
        { "write1", NULL, js_write1, NULL, NULL, NULL, napi_enumerable, NULL },
        { "uvPoll", NULL, js_uv_poll, NULL, NULL, NULL, napi_enumerable, NULL },
        { "uvPollBatched", NULL, js_uv_poll_batched, NULL, NULL, NULL, napi_enumerable, NULL },
        { "uvPollCloseAll", NULL, js_uv_poll_close_all, NULL, NULL, NULL, napi_enumerable, NULL },
    };
    if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
    return exports;
}
