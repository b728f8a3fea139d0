/*
 * worker_load.c - load generator for `hwr worker` (proto/hwr.proto over ZeroMQ). A benchmark, not
 * a test: run it through run-worker-load.sh.
 *
 *   worker_load --endpoint E --image FILE [--mode char|line|auto|page] [--lexicon W1,W2,...]
 *               [--clients N] [--requests TOTAL] [--rate R | --window W] [--drain-ms MS]
 *               [--max-seconds S] [--label NAME] [--expect TEXT]
 *   worker_load --echo-server E      a ROUTER answering every request at once with a canned
 *                                    reply (same request_id): measures this generator's own limits
 *
 * N client threads, each with its own DEALER socket, send TOTAL requests in all (TOTAL/N each),
 * every one with a unique request_id ("r" + 13 digits: the request's global index). Either
 *   --rate R     open loop: the clients together send R requests/s on a fixed schedule whatever
 *                the replies do; latency is measured from the *scheduled* send time (no
 *                coordinated omission), and the lag of actual sends behind the schedule is reported
 *                (a generator that cannot keep up shows a large lag);
 *   --window W   closed loop (default, W = 4): each client keeps W requests in flight, as fast as
 *                the worker answers; latency from the actual send.
 * Every reply is matched to its request by request_id and counted: at the end, "lost" is the
 * number of requests without a reply (after waiting --drain-ms for stragglers), "duplicated" the
 * number with more than one, "unknown" replies whose id names no request of this run. Statuses
 * other than OK are counted per status (OVERLOADED ...); with --expect, OK replies whose text
 * differs are counted as "wrong".
 *
 * Output: one human-readable line, then one line "JSON {...}" with every figure. Throughput is
 * replies per second from the first scheduled send to the last reply ("ok_throughput": OK replies
 * only, the figure printed); latency percentiles are over all first replies. The generator's
 * own cost is in cpu_s / cpu_us_per_request (user + system time of this process); the CPU it takes
 * is CPU the worker does not get on a small machine.
 *
 * Build: make -C Benchmarks (C11, -O2; libzmq and libprotobuf-c).
 */
#define _GNU_SOURCE /* ppoll, memmem */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "hwr.pb-c.h"

#define ID_DIGITS 13
#define ID_LEN (1 + ID_DIGITS)
#define N_STATUS 16

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "worker_load: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(2);
}

static unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return NULL; }
    unsigned char *data = malloc((size_t)n + 1);
    if (!data || fread(data, 1, (size_t)n, f) != (size_t)n) { free(data); fclose(f); return NULL; }
    fclose(f);
    *size = (size_t)n;
    return data;
}

/* ---- protobuf scanning (the echo server reads only the request_id) ---------------------------- */

static int read_varint(const unsigned char **p, const unsigned char *end, uint64_t *v) {
    *v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        unsigned char b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return 0;
    }
    return -1;
}

/* Finds field 2 (request_id) of a serialized Request: returns its bytes and length, or NULL. */
static const unsigned char *scan_request_id(const unsigned char *p, size_t size, size_t *len) {
    const unsigned char *end = p + size;
    while (p < end) {
        uint64_t key, v;
        if (read_varint(&p, end, &key)) return NULL;
        switch (key & 7) {
        case 0: if (read_varint(&p, end, &v)) return NULL; break;
        case 1: p += 8; break;
        case 5: p += 4; break;
        case 2:
            if (read_varint(&p, end, &v) || v > (uint64_t)(end - p)) return NULL;
            if ((key >> 3) == 2) { *len = (size_t)v; return p; }
            p += v;
            break;
        default: return NULL;
        }
    }
    return NULL;
}

/* ---- echo server -------------------------------------------------------------------------------- */

static volatile sig_atomic_t stop_echo;
static void on_signal(int sig) { (void)sig; stop_echo = 1; }

static int echo_server(const char *endpoint) {
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_ROUTER);
    int zero = 0, big = 1000000;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(sock, ZMQ_SNDHWM, &big, sizeof big);
    zmq_setsockopt(sock, ZMQ_RCVHWM, &big, sizeof big);
    if (zmq_bind(sock, endpoint) != 0) {
        fprintf(stderr, "worker_load: cannot bind %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    Hwr__V1__Character ch = HWR__V1__CHARACTER__INIT;
    Hwr__V1__Character *chars[1] = { &ch };
    Hwr__V1__Alternative alt = HWR__V1__ALTERNATIVE__INIT;
    Hwr__V1__Alternative *alts[1] = { &alt };
    Hwr__V1__Recognition rec = HWR__V1__RECOGNITION__INIT;
    Hwr__V1__RecognizeReply rr = HWR__V1__RECOGNIZE_REPLY__INIT;
    Hwr__V1__Reply reply = HWR__V1__REPLY__INIT;
    ch.text = alt.text = rec.text = "K";
    ch.p = alt.score = rec.confidence = 0.99f;
    rec.n_chars = rec.n_alternatives = 1;
    rec.chars = chars;
    rec.alternatives = alts;
    rr.result = &rec;
    rr.model_name = "echo";
    reply.protocol_version = 1;
    reply.method_case = HWR__V1__REPLY__METHOD_RECOGNIZE;
    reply.recognize = &rr;
    unsigned char out[4096];
    char id[256];
    zmq_msg_t frames[8];
    fprintf(stderr, "worker_load: echo server on %s\n", endpoint);
    while (!stop_echo) {
        zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, 200) <= 0) continue;
        int n = 0, more = 1;
        while (more) {
            zmq_msg_t *m = &frames[n < 8 ? n : 7];
            if (n >= 8) zmq_msg_close(m);
            zmq_msg_init(m);
            if (zmq_msg_recv(m, sock, 0) < 0) break;
            more = zmq_msg_more(m);
            if (n < 8) n++;
        }
        if (n < 2) { for (int i = 0; i < n; i++) zmq_msg_close(&frames[i]); continue; }
        size_t len = 0;
        const unsigned char *p = scan_request_id(zmq_msg_data(&frames[n - 1]), zmq_msg_size(&frames[n - 1]), &len);
        if (!p || len >= sizeof id) len = 0;
        if (len) memcpy(id, p, len);
        id[len] = '\0';
        reply.request_id = id;
        reply.status = len ? HWR__V1__STATUS_CODE__OK : HWR__V1__STATUS_CODE__BAD_REQUEST;
        size_t size = hwr__v1__reply__pack(&reply, out);
        for (int i = 0; i < n - 1; i++) zmq_msg_send(&frames[i], sock, ZMQ_SNDMORE); /* routing frames */
        zmq_msg_close(&frames[n - 1]);
        zmq_send(sock, out, size, 0);
    }
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return 0;
}

/* ---- load generator ----------------------------------------------------------------------------- */

typedef struct {
    /* configuration */
    const char *endpoint;
    void *ctx;
    const unsigned char *body; /* serialized request template */
    size_t body_size, id_offset;
    const char *expect;
    int index, clients, window;
    double rate; /* requests/s of this client, 0: closed loop */
    uint64_t first, count, total; /* own global indices [first, first + count) of [0, total) */
    uint64_t start_ns, stop_ns, drain_ns;
    uint64_t *sent_ns; /* per global index: scheduled (open loop) or actual send time */
    uint8_t *replies;  /* per global index: replies received */
    /* results */
    uint64_t *latency_ns; /* one per first reply */
    uint64_t n_latency, sent, answered, received, unknown, wrong, parse_errors;
    uint64_t status[N_STATUS];
    uint64_t lag_sum_ns, lag_max_ns, last_reply_ns;
    int error;
} client_t;

static void set_id(unsigned char *body, size_t offset, uint64_t g) {
    char digits[ID_DIGITS + 1];
    snprintf(digits, sizeof digits, "%0*" PRIu64, ID_DIGITS, g);
    memcpy(body + offset + 1, digits, ID_DIGITS);
}

static int readable(void *sock) {
    int ev = 0;
    size_t sz = sizeof ev;
    zmq_getsockopt(sock, ZMQ_EVENTS, &ev, &sz);
    return (ev & ZMQ_POLLIN) != 0;
}

/* Waits until the socket is readable or `deadline` (monotonic ns) passes; 1 if readable. */
static int wait_readable(void *sock, int fd, uint64_t deadline) {
    for (;;) {
        if (readable(sock)) return 1;
        uint64_t now = now_ns();
        if (now >= deadline) return 0;
        uint64_t wait = deadline - now;
        struct timespec ts = { (time_t)(wait / 1000000000u), (long)(wait % 1000000000u) };
        struct pollfd p = { fd, POLLIN, 0 };
        ppoll(&p, 1, &ts, NULL);
    }
}

/* Receives every reply available without blocking. */
static void receive_all(client_t *c, void *sock) {
    unsigned char buf[65536];
    while (readable(sock)) {
        int more = 1, n = -1;
        while (more) { /* the reply is the last frame (a DEALER gets just [body]) */
            n = zmq_recv(sock, buf, sizeof buf, ZMQ_DONTWAIT);
            if (n < 0) return;
            int m = 0;
            size_t sz = sizeof m;
            zmq_getsockopt(sock, ZMQ_RCVMORE, &m, &sz);
            more = m;
        }
        uint64_t now = now_ns();
        c->received++;
        c->last_reply_ns = now;
        size_t size = (size_t)n < sizeof buf ? (size_t)n : sizeof buf;
        Hwr__V1__Reply *reply = hwr__v1__reply__unpack(NULL, size, buf);
        if (!reply) { c->parse_errors++; continue; }
        const char *id = reply->request_id;
        char *end = NULL;
        uint64_t g = (strlen(id) == ID_LEN && id[0] == 'r') ? strtoull(id + 1, &end, 10) : UINT64_MAX;
        if (g >= c->total || (end && *end)) {
            c->unknown++;
            hwr__v1__reply__free_unpacked(reply, NULL);
            continue;
        }
        unsigned st = (unsigned)reply->status < N_STATUS ? (unsigned)reply->status : N_STATUS - 1;
        uint8_t before = __atomic_fetch_add(&c->replies[g], 1, __ATOMIC_RELAXED);
        if (before == 0) {
            c->answered++;
            c->status[st]++;
            c->latency_ns[c->n_latency++] = now - c->sent_ns[g];
            if (c->expect && st == 0 &&
                (reply->method_case != HWR__V1__REPLY__METHOD_RECOGNIZE || !reply->recognize->result ||
                 strcmp(reply->recognize->result->text, c->expect) != 0))
                c->wrong++;
        }
        hwr__v1__reply__free_unpacked(reply, NULL);
    }
}

static void *run_client(void *arg) {
    client_t *c = arg;
    void *sock = zmq_socket(c->ctx, ZMQ_DEALER);
    int zero = 0, big = 1000000;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(sock, ZMQ_SNDHWM, &big, sizeof big);
    zmq_setsockopt(sock, ZMQ_RCVHWM, &big, sizeof big);
    if (zmq_connect(sock, c->endpoint) != 0) { c->error = zmq_errno(); return NULL; }
    int fd;
    size_t fdsz = sizeof fd;
    zmq_getsockopt(sock, ZMQ_FD, &fd, &fdsz);
    unsigned char *body = malloc(c->body_size);
    if (!body) { c->error = ENOMEM; zmq_close(sock); return NULL; }
    memcpy(body, c->body, c->body_size);

    uint64_t k = 0; /* next request of this client */
    double interval = c->rate > 0 ? 1e9 / c->rate : 0;
    /* open loop: client i starts at a phase offset so that the clients' sends interleave */
    double phase = c->rate > 0 ? interval * c->index / c->clients : 0;
    while (k < c->count) {
        uint64_t now = now_ns();
        if (now >= c->stop_ns) break; /* --max-seconds */
        if (c->rate > 0) {
            uint64_t due = c->start_ns + (uint64_t)(phase + interval * (double)k);
            if (now < due) {
                if (wait_readable(sock, fd, due)) receive_all(c, sock);
                continue;
            }
            uint64_t g = c->first + k;
            set_id(body, c->id_offset, g);
            c->sent_ns[g] = due;
            if (zmq_send(sock, body, c->body_size, 0) < 0) { c->error = zmq_errno(); break; }
            uint64_t lag = now_ns() - due;
            c->lag_sum_ns += lag;
            if (lag > c->lag_max_ns) c->lag_max_ns = lag;
            c->sent++;
            k++;
        } else {
            if (c->sent - c->answered >= (uint64_t)c->window) {
                if (wait_readable(sock, fd, c->stop_ns)) receive_all(c, sock);
                continue;
            }
            uint64_t g = c->first + k;
            set_id(body, c->id_offset, g);
            c->sent_ns[g] = now_ns();
            if (zmq_send(sock, body, c->body_size, 0) < 0) { c->error = zmq_errno(); break; }
            c->sent++;
            k++;
        }
        receive_all(c, sock);
    }
    /* drain: wait for the replies still expected */
    uint64_t drain_until = now_ns() + c->drain_ns;
    while (c->answered < c->sent && wait_readable(sock, fd, drain_until)) receive_all(c, sock);
    free(body);
    zmq_close(sock);
    return NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const uint64_t *sorted, uint64_t n, double p) {
    if (!n) return 0;
    uint64_t i = (uint64_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return (double)sorted[i] / 1e6;
}

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void usage(void) {
    fprintf(stderr,
            "usage: worker_load --endpoint E --image FILE [--mode char|line|auto|page] [--lexicon W1,W2,...]\n"
            "                   [--clients N] [--requests TOTAL] [--rate R | --window W] [--drain-ms MS]\n"
            "                   [--max-seconds S] [--label NAME] [--expect TEXT]\n"
            "       worker_load --echo-server ENDPOINT\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *endpoint = NULL, *image = NULL, *label = "load", *expect = NULL, *lexicon_arg = NULL;
    Hwr__V1__Mode mode = HWR__V1__MODE__MODE_CHAR;
    long clients = 8, window = 4, drain_ms = 5000;
    double rate = 0, max_seconds = 120;
    uint64_t total = 10000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--echo-server") && v) return echo_server(v);
        if (!v) usage();
        i++;
        if (!strcmp(a, "--endpoint")) endpoint = v;
        else if (!strcmp(a, "--image")) image = v;
        else if (!strcmp(a, "--label")) label = v;
        else if (!strcmp(a, "--expect")) expect = v;
        else if (!strcmp(a, "--lexicon")) lexicon_arg = v;
        else if (!strcmp(a, "--mode")) {
            if (!strcmp(v, "char")) mode = HWR__V1__MODE__MODE_CHAR;
            else if (!strcmp(v, "line")) mode = HWR__V1__MODE__MODE_LINE;
            else if (!strcmp(v, "auto")) mode = HWR__V1__MODE__MODE_AUTO;
            else if (!strcmp(v, "page")) mode = HWR__V1__MODE__MODE_PAGE;
            else usage();
        } else if (!strcmp(a, "--clients")) clients = atol(v);
        else if (!strcmp(a, "--window")) window = atol(v);
        else if (!strcmp(a, "--drain-ms")) drain_ms = atol(v);
        else if (!strcmp(a, "--requests")) total = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--rate")) rate = atof(v);
        else if (!strcmp(a, "--max-seconds")) max_seconds = atof(v);
        else usage();
    }
    if (!endpoint || !image || clients < 1 || clients > 1024 || window < 1 || total < (uint64_t)clients ||
        rate < 0 || max_seconds <= 0 || total >= 10000000000000ull)
        usage();

    /* The request template, with a fixed-width request_id patched per request. */
    size_t image_size;
    unsigned char *image_data = read_file(image, &image_size);
    if (!image_data) die(image);
    char *words[1024];
    size_t n_words = 0;
    char *lexicon_copy = lexicon_arg ? strdup(lexicon_arg) : NULL;
    for (char *save = NULL, *w = lexicon_copy ? strtok_r(lexicon_copy, ",", &save) : NULL; w && n_words < 1024;
         w = strtok_r(NULL, ",", &save))
        words[n_words++] = w;
    Hwr__V1__Request req = HWR__V1__REQUEST__INIT;
    Hwr__V1__RecognizeRequest rr = HWR__V1__RECOGNIZE_REQUEST__INIT;
    Hwr__V1__Image img = HWR__V1__IMAGE__INIT;
    Hwr__V1__DecodingOptions opts = HWR__V1__DECODING_OPTIONS__INIT;
    char template_id[ID_LEN + 1];
    memset(template_id, '#', ID_LEN);
    template_id[0] = 'r';
    template_id[ID_LEN] = '\0';
    req.protocol_version = 1;
    req.request_id = template_id;
    img.data.data = image_data;
    img.data.len = image_size;
    opts.n_lexicon = n_words;
    opts.lexicon = words;
    rr.image = &img;
    rr.mode = mode;
    rr.options = &opts;
    req.method_case = HWR__V1__REQUEST__METHOD_RECOGNIZE;
    req.recognize = &rr;
    size_t body_size = hwr__v1__request__get_packed_size(&req);
    unsigned char *body = malloc(body_size);
    hwr__v1__request__pack(&req, body);
    unsigned char *at = memmem(body, body_size, template_id, ID_LEN);
    if (!at) { fprintf(stderr, "worker_load: request_id not found in the packed request\n"); return 2; }
    size_t id_offset = (size_t)(at - body);

    uint64_t *sent_ns = calloc(total, sizeof *sent_ns);
    uint8_t *replies = calloc(total, 1);
    client_t *cs = calloc((size_t)clients, sizeof *cs);
    pthread_t *threads = calloc((size_t)clients, sizeof *threads);
    if (!sent_ns || !replies || !cs || !threads) die("out of memory");
    void *ctx = zmq_ctx_new();
    zmq_ctx_set(ctx, ZMQ_IO_THREADS, 1);
    double cpu0 = cpu_seconds();
    uint64_t start = now_ns() + 20000000u; /* 20 ms to connect every socket before the schedule starts */
    uint64_t per = total / (uint64_t)clients, extra = total % (uint64_t)clients, first = 0;
    for (long i = 0; i < clients; i++) {
        client_t *c = &cs[i];
        c->endpoint = endpoint;
        c->ctx = ctx;
        c->body = body;
        c->body_size = body_size;
        c->id_offset = id_offset;
        c->expect = expect;
        c->index = (int)i;
        c->clients = (int)clients;
        c->window = (int)window;
        c->rate = rate / (double)clients;
        c->first = first;
        c->count = per + ((uint64_t)i < extra);
        c->total = total;
        first += c->count;
        c->start_ns = start;
        c->stop_ns = start + (uint64_t)(max_seconds * 1e9);
        c->drain_ns = (uint64_t)drain_ms * 1000000u;
        c->sent_ns = sent_ns;
        c->replies = replies;
        c->latency_ns = malloc((c->count + 1) * sizeof *c->latency_ns);
        if (!c->latency_ns) die("out of memory");
        if (pthread_create(&threads[i], NULL, run_client, c) != 0) die("pthread_create");
    }
    for (long i = 0; i < clients; i++) pthread_join(threads[i], NULL);
    double cpu = cpu_seconds() - cpu0;

    /* Aggregate. */
    uint64_t sent = 0, received = 0, unknown = 0, wrong = 0, parse_errors = 0, n_lat = 0, lag_sum = 0, lag_max = 0,
             last = start, status[N_STATUS] = { 0 };
    int error = 0;
    for (long i = 0; i < clients; i++) {
        client_t *c = &cs[i];
        sent += c->sent; received += c->received; unknown += c->unknown; wrong += c->wrong;
        parse_errors += c->parse_errors; n_lat += c->n_latency; lag_sum += c->lag_sum_ns;
        if (c->lag_max_ns > lag_max) lag_max = c->lag_max_ns;
        if (c->last_reply_ns > last) last = c->last_reply_ns;
        for (int s = 0; s < N_STATUS; s++) status[s] += c->status[s];
        if (c->error) error = c->error;
    }
    uint64_t *lat = malloc((n_lat + 1) * sizeof *lat), j = 0;
    for (long i = 0; i < clients; i++) {
        memcpy(lat + j, cs[i].latency_ns, cs[i].n_latency * sizeof *lat);
        j += cs[i].n_latency;
    }
    qsort(lat, n_lat, sizeof *lat, cmp_u64);
    uint64_t lost = 0, duplicated = 0; /* over the requests sent (all of them unless --max-seconds cut the run) */
    for (uint64_t g = 0; g < total; g++) {
        if (sent_ns[g] == 0) continue;
        if (replies[g] == 0) lost++;
        else if (replies[g] > 1) duplicated++;
    }
    double wall = (double)(last - start) / 1e9;
    double throughput = wall > 0 ? (double)n_lat / wall : 0;           /* every first reply */
    double ok_throughput = wall > 0 ? (double)status[0] / wall : 0;  /* OK replies only */
    double mean = 0;
    for (uint64_t i = 0; i < n_lat; i++) mean += (double)lat[i];
    mean = n_lat ? mean / (double)n_lat / 1e6 : 0;
    const char *mode_name = mode == HWR__V1__MODE__MODE_CHAR ? "char" : mode == HWR__V1__MODE__MODE_LINE ? "line"
                          : mode == HWR__V1__MODE__MODE_PAGE ? "page" : "auto";

    printf("%-12s %s clients=%ld %s sent=%" PRIu64 " ok=%" PRIu64 " errors=%" PRIu64 " lost=%" PRIu64
           " dup=%" PRIu64 " | %.0f OK req/s | p50 %.2f p90 %.2f p99 %.2f max %.2f ms | client cpu %.0f%% (%.1f us/req)"
           "%s\n",
           label, mode_name, clients, rate > 0 ? "open-loop" : "closed-loop", sent, status[0], n_lat - status[0], lost,
           duplicated, ok_throughput, pct(lat, n_lat, 50), pct(lat, n_lat, 90), pct(lat, n_lat, 99),
           pct(lat, n_lat, 100), wall > 0 ? 100 * cpu / wall : 0, n_lat ? cpu / (double)n_lat * 1e6 : 0,
           sent < total ? " (cut by --max-seconds)" : "");
    if (rate > 0)
        printf("%-12s target %.0f req/s: send lag mean %.3f ms, max %.3f ms\n", label, rate,
               sent ? (double)lag_sum / (double)sent / 1e6 : 0, (double)lag_max / 1e6);
    printf("JSON {\"label\":\"%s\",\"mode\":\"%s\",\"image\":\"%s\",\"clients\":%ld,\"loop\":\"%s\",\"window\":%ld,"
           "\"target_rate\":%.1f,\"requests\":%" PRIu64 ",\"sent\":%" PRIu64 ",\"replies\":%" PRIu64 ",\"ok\":%" PRIu64
           ",\"lost\":%" PRIu64 ",\"duplicated\":%" PRIu64 ",\"unknown\":%" PRIu64 ",\"unparseable\":%" PRIu64
           ",\"wrong\":%" PRIu64 ",\"status\":{",
           label, mode_name, image, clients, rate > 0 ? "open" : "closed", rate > 0 ? 0 : window, rate, total, sent,
           received, status[0], lost, duplicated, unknown, parse_errors, wrong);
    static const char *names[] = { "OK", "BAD_REQUEST", "UNSUPPORTED", "IMAGE_TOO_LARGE", "DECODE_FAILURE",
                                   "OVERLOADED", "INTERNAL", "WRONG_VERSION", "SHUTTING_DOWN" };
    int firstname = 1;
    for (int s = 0; s < N_STATUS; s++) {
        if (!status[s]) continue;
        printf("%s\"%s\":%" PRIu64, firstname ? "" : ",", s < 9 ? names[s] : "OTHER", status[s]);
        firstname = 0;
    }
    printf("},\"seconds\":%.3f,\"throughput\":%.1f,\"ok_throughput\":%.1f,\"latency_ms\":{\"mean\":%.3f,\"p50\":%.3f,\"p90\":%.3f,"
           "\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f},\"send_lag_ms\":{\"mean\":%.3f,\"max\":%.3f},\"cpu_s\":%.3f,"
           "\"cpu_us_per_request\":%.2f,\"error\":\"%s\"}\n",
           wall, throughput, ok_throughput, mean, pct(lat, n_lat, 50), pct(lat, n_lat, 90), pct(lat, n_lat, 99),
           pct(lat, n_lat, 99.9), pct(lat, n_lat, 100), sent ? (double)lag_sum / (double)sent / 1e6 : 0,
           (double)lag_max / 1e6, cpu, n_lat ? cpu / (double)n_lat * 1e6 : 0, error ? zmq_strerror(error) : "");
    fflush(stdout);
    zmq_ctx_term(ctx);
    return error || lost || duplicated ? 1 : 0;
}
