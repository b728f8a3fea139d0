/*
 * zmq_client.c - recognise one image file with an `hwr worker` over ZeroMQ: builds an
 * hwr.v1.Request with protobuf-c (proto/hwr.proto), sends it on a DEALER socket, waits for the
 * reply with a timeout and prints it.
 *
 *   zmq_client [-e ENDPOINT] [-M char|line|auto] [-k N] [-c CHARSET] [-l WORD]... [-t MS]
 *              [-d MS] [-m BYTES] FILE
 *   zmq_client [-e ENDPOINT] [-t MS] -H            (health check)
 *   (long forms: --endpoint, --mode, --top-k, --charset, --lexicon, --timeout, --deadline,
 *   --max-message-bytes, --health, --help; options come before the file)
 *
 * Output (stdout), one "key: value" per line:
 *
 *   status: OK
 *   text: K
 *   confidence: 0.9963
 *   alternatives: K:0.9963 R:0.0018 H:0.0006 F:0.0003 X:0.0002
 *   chars: K:0.9963
 *   server_time_ms: 0.412
 *
 * probabilities with four decimals, alternatives best first (the first is the text; in line and
 * auto modes they are readings of the whole text). When the worker answers with an error, prints
 * "status: NAME" and "message: ..." and exits 1. A request larger than the worker's message limit
 * (-m, default the worker's default, 8 MiB) is not sent: it prints "status: IMAGE_TOO_LARGE" and
 * exits 1, as the worker would answer (above 8 times its limit, it would drop the connection
 * without a reply). Exit status: 0 OK, 1 error reply, 2 usage error
 * or unreadable file, 3 no reply within the timeout (or a ZeroMQ error).
 *
 * The request carries a request_id unique to this process; replies with another id are ignored
 * (a DEALER socket may in general receive late replies of earlier requests). A client that
 * retries after a timeout should close the socket (linger 0), open a new one and send the same
 * request again, so that at most one reply is taken (see hwr.Client in bindings/python).
 *
 * Build: make -C bindings/c (needs libzmq3-dev and libprotobuf-c-dev), or
 *   cc -std=c11 -Igenerated -o zmq_client zmq_client.c generated/hwr.pb-c.c -lzmq -lprotobuf-c
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, getpid */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "hwr.pb-c.h"

enum { EXIT_OK = 0, EXIT_ERROR_REPLY = 1, EXIT_USAGE = 2, EXIT_NO_REPLY = 3 };
#define MAX_LEXICON 256

static void usage(FILE *out, const char *argv0) {
    fprintf(out,
            "usage: %s [-e ENDPOINT] [-M char|line|auto] [-k N] [-c CHARSET] [-l WORD]... [-t MS]\n"
            "          [-d MS] [-m BYTES] FILE\n"
            "       %s [-e ENDPOINT] [-t MS] -H\n"
            "  -e, --endpoint ENDPOINT  the worker (default: $HWR_ENDPOINT, else tcp://127.0.0.1:5555)\n"
            "  -M, --mode MODE          char (default): one character; line: a word or line; auto: either\n"
            "  -k, --top-k N            candidates (char mode) or alternative readings (line modes),\n"
            "                           default 5\n"
            "  -c, --charset CHARSET    only these characters may be read, e.g. 0123456789\n"
            "  -l, --lexicon WORD       line modes: a word of the lexicon (repeat for more words)\n"
            "  -t, --timeout MS         reply timeout in milliseconds (default 5000)\n"
            "  -d, --deadline MS        the request's deadline_ms: the worker answers DEADLINE_EXCEEDED\n"
            "                           past it (default 0: the worker's own, if any)\n"
            "  -m, --max-message-bytes BYTES  the worker's message limit (default 8388608, its\n"
            "                           default): larger requests are refused without sending\n"
            "  -H, --health             ask the worker's health instead of recognising a file\n"
            "  -h, --help               this help\n",
            argv0, argv0);
}

static const char *status_name(int status) {
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&hwr__v1__status_code__descriptor, status);
    return v ? v->name : "UNKNOWN";
}

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads a whole file into a malloc'ed buffer. */
static unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *data = NULL;
    size_t used = 0, cap = 0, n;
    do {
        if (used == cap) {
            cap = cap ? 2 * cap : 65536;
            unsigned char *grown = realloc(data, cap);
            if (!grown) { free(data); fclose(f); errno = ENOMEM; return NULL; }
            data = grown;
        }
        n = fread(data + used, 1, cap - used, f);
        used += n;
    } while (n > 0);
    int failed = ferror(f);
    fclose(f);
    if (failed) { free(data); return NULL; }
    *size = used;
    return data;
}

/* Receives one multipart message; returns its last frame (the reply body) in *body (malloc'ed). */
static int recv_last_frame(void *sock, unsigned char **body, size_t *size) {
    int more = 1;
    *body = NULL;
    *size = 0;
    while (more) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, sock, 0) < 0) { zmq_msg_close(&msg); free(*body); *body = NULL; return -1; }
        more = zmq_msg_more(&msg);
        free(*body);
        *size = zmq_msg_size(&msg);
        *body = malloc(*size ? *size : 1);
        if (*body) memcpy(*body, zmq_msg_data(&msg), *size);
        zmq_msg_close(&msg);
        if (!*body) return -1;
    }
    return 0;
}

static void print_reply(const Hwr__V1__Reply *reply) {
    printf("status: %s\n", status_name(reply->status));
    if (reply->status != HWR__V1__STATUS_CODE__OK && reply->message[0]) printf("message: %s\n", reply->message);
    if (reply->method_case == HWR__V1__REPLY__METHOD_HEALTH) {
        printf("serving: %s\n", reply->health->serving ? "yes" : "no");
    } else if (reply->method_case == HWR__V1__REPLY__METHOD_RECOGNIZE && reply->recognize->result &&
               reply->status == HWR__V1__STATUS_CODE__OK) {
        const Hwr__V1__Recognition *r = reply->recognize->result;
        printf("text: %s\n", r->text);
        printf("confidence: %.4f\n", r->confidence);
        if (r->rejected) printf("rejected: yes\n");
        printf("alternatives:");
        for (size_t i = 0; i < r->n_alternatives; i++)
            printf(" %s:%.4f", r->alternatives[i]->text, r->alternatives[i]->score);
        printf("\nchars:");
        for (size_t i = 0; i < r->n_chars; i++) printf(" %s:%.4f", r->chars[i]->text, r->chars[i]->p);
        printf("\n");
    }
    printf("server_time_ms: %.3f\n", reply->server_time_ms);
}

/* The options; "+": options end at the first file name (as "--" also ends them). */
static const char short_options[] = "+e:M:k:c:l:t:d:m:Hh";
static const struct option long_options[] = {
    {"endpoint", required_argument, NULL, 'e'},
    {"mode", required_argument, NULL, 'M'},
    {"top-k", required_argument, NULL, 'k'},
    {"charset", required_argument, NULL, 'c'},
    {"lexicon", required_argument, NULL, 'l'},
    {"timeout", required_argument, NULL, 't'},
    {"deadline", required_argument, NULL, 'd'},
    {"max-message-bytes", required_argument, NULL, 'm'},
    {"health", no_argument, NULL, 'H'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int main(int argc, char **argv) {
    const char *endpoint = getenv("HWR_ENDPOINT");
    const char *charset = NULL, *file = NULL;
    char *lexicon[MAX_LEXICON];
    size_t n_lexicon = 0;
    long k = 5, timeout_ms = 5000, deadline_ms = 0;
    long long max_message_bytes = 8 << 20; /* hwr worker --max-message-bytes default */
    int health = 0;
    Hwr__V1__Mode mode = HWR__V1__MODE__MODE_CHAR;
    if (!endpoint || !*endpoint) endpoint = "tcp://127.0.0.1:5555";

    int opt;
    while ((opt = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        switch (opt) {
        case 'e': endpoint = optarg; break;
        case 'c': charset = optarg; break;
        case 'H': health = 1; break;
        case 'h': usage(stdout, argv[0]); return EXIT_OK;
        case 'M':
            if (strcmp(optarg, "char") == 0) mode = HWR__V1__MODE__MODE_CHAR;
            else if (strcmp(optarg, "line") == 0) mode = HWR__V1__MODE__MODE_LINE;
            else if (strcmp(optarg, "auto") == 0) mode = HWR__V1__MODE__MODE_AUTO;
            else { fprintf(stderr, "%s: bad mode '%s' (char, line or auto)\n", argv[0], optarg); return EXIT_USAGE; }
            break;
        case 'l':
            if (n_lexicon == MAX_LEXICON) { fprintf(stderr, "%s: more than %d lexicon words\n", argv[0], MAX_LEXICON); return EXIT_USAGE; }
            lexicon[n_lexicon++] = optarg;
            break;
        case 'k':
        case 't': {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 1 || v > 100000000) {
                fprintf(stderr, "%s: bad value '%s' for -%c\n", argv[0], optarg, opt);
                return EXIT_USAGE;
            }
            if (opt == 'k') k = v; else timeout_ms = v;
            break;
        }
        case 'd':
        case 'm': {
            char *end = NULL;
            long long v = strtoll(optarg, &end, 10);
            if (!*optarg || *end || v < (opt == 'd' ? 0 : 1) || (opt == 'd' && v > 4294967295LL)) {
                fprintf(stderr, "%s: bad value '%s' for -%c\n", argv[0], optarg, opt);
                return EXIT_USAGE;
            }
            if (opt == 'd') deadline_ms = (long)v; else max_message_bytes = v;
            break;
        }
        default: /* getopt_long has described the problem */
            usage(stderr, argv[0]);
            return EXIT_USAGE;
        }
    }
    int i = optind;
    if (!health) {
        if (i != argc - 1) { usage(stderr, argv[0]); return EXIT_USAGE; }
        file = argv[i];
    } else if (i != argc) {
        usage(stderr, argv[0]);
        return EXIT_USAGE;
    }

    /* The request. */
    char request_id[64];
    snprintf(request_id, sizeof request_id, "zmq_client-%ld-%ld", (long)getpid(), now_ms());
    Hwr__V1__Request request = HWR__V1__REQUEST__INIT;
    Hwr__V1__RecognizeRequest recognize = HWR__V1__RECOGNIZE_REQUEST__INIT;
    Hwr__V1__Image image = HWR__V1__IMAGE__INIT;
    Hwr__V1__DecodingOptions options = HWR__V1__DECODING_OPTIONS__INIT;
    Hwr__V1__HealthRequest health_request = HWR__V1__HEALTH_REQUEST__INIT;
    unsigned char *data = NULL;
    request.protocol_version = 1;
    request.request_id = request_id;
    request.deadline_ms = (uint32_t)deadline_ms;
    if (health) {
        request.method_case = HWR__V1__REQUEST__METHOD_HEALTH;
        request.health = &health_request;
    } else {
        size_t size = 0;
        data = read_file(file, &size);
        if (!data) { fprintf(stderr, "%s: %s: %s\n", argv[0], file, strerror(errno)); return EXIT_USAGE; }
        image.encoding = HWR__V1__ENCODING__ENCODING_AUTO; /* the worker detects PNG, JPEG or PGM */
        image.data.data = data;
        image.data.len = size;
        if (mode == HWR__V1__MODE__MODE_CHAR) options.top_k = (uint32_t)k;
        else options.alternatives = (uint32_t)k;
        if (charset) options.charset = (char *)charset;
        options.n_lexicon = n_lexicon;
        options.lexicon = lexicon;
        recognize.image = &image;
        recognize.mode = mode;
        recognize.options = &options;
        request.method_case = HWR__V1__REQUEST__METHOD_RECOGNIZE;
        request.recognize = &recognize;
    }
    size_t packed_size = hwr__v1__request__get_packed_size(&request);
    unsigned char *packed = malloc(packed_size ? packed_size : 1);
    if (!packed) { fprintf(stderr, "%s: out of memory\n", argv[0]); free(data); return EXIT_USAGE; }
    hwr__v1__request__pack(&request, packed);
    free(data);
    if ((long long)packed_size > max_message_bytes) {
        printf("status: IMAGE_TOO_LARGE\nmessage: request of %zu bytes exceeds the worker's limit of %lld bytes: not sent\n",
               packed_size, max_message_bytes);
        free(packed);
        return EXIT_ERROR_REPLY;
    }

    /* Send on a DEALER socket: the frames are [body]; the reply comes back as [body]. */
    int rc = EXIT_NO_REPLY;
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(sock, endpoint) != 0) {
        fprintf(stderr, "%s: cannot connect to %s: %s\n", argv[0], endpoint, zmq_strerror(zmq_errno()));
        rc = EXIT_USAGE;
        goto done;
    }
    if (zmq_send(sock, packed, packed_size, 0) < 0) {
        fprintf(stderr, "%s: send: %s\n", argv[0], zmq_strerror(zmq_errno()));
        goto done;
    }
    long deadline = now_ms() + timeout_ms;
    for (;;) {
        long remaining = deadline - now_ms();
        zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
        int ready = remaining > 0 ? zmq_poll(&item, 1, remaining) : 0;
        if (ready < 0 && zmq_errno() == EINTR) continue;
        if (ready <= 0) {
            fprintf(stderr, "%s: no reply from %s within %ld ms\n", argv[0], endpoint, timeout_ms);
            break;
        }
        unsigned char *body;
        size_t body_size;
        if (recv_last_frame(sock, &body, &body_size) != 0) {
            fprintf(stderr, "%s: receive: %s\n", argv[0], zmq_strerror(zmq_errno()));
            break;
        }
        Hwr__V1__Reply *reply = hwr__v1__reply__unpack(NULL, body_size, body);
        free(body);
        if (!reply) { fprintf(stderr, "%s: ignored a reply that is not an hwr.v1.Reply\n", argv[0]); continue; }
        /* Ours, or an error about a request the worker could not read (then request_id is ""). */
        if (strcmp(reply->request_id, request_id) != 0 &&
            (reply->request_id[0] || reply->status == HWR__V1__STATUS_CODE__OK)) {
            fprintf(stderr, "%s: ignored a reply to request '%s'\n", argv[0], reply->request_id);
            hwr__v1__reply__free_unpacked(reply, NULL);
            continue;
        }
        print_reply(reply);
        rc = reply->status == HWR__V1__STATUS_CODE__OK ? EXIT_OK : EXIT_ERROR_REPLY;
        hwr__v1__reply__free_unpacked(reply, NULL);
        break;
    }
done:
    zmq_close(sock);
    zmq_ctx_term(ctx);
    free(packed);
    return rc;
}
