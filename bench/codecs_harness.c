/*
 * codecs_harness: times the C reference libraries the Go decoders are
 * compared with, on the same bitstreams the Go benchmarks use.
 *
 *   codecs_harness g722 FILE PASSES   spandsp G.722 64 kbit/s, 80-octet (10 ms) payloads
 *   codecs_harness g729 FILE PASSES   bcg729 G.729, frame file [len][payload] records
 *
 * Each pass decodes the whole file with a freshly initialised decoder. The
 * output is one line: "<ns per 10 ms frame> <frames per pass> <checksum>",
 * where ns per frame is taken from the fastest pass (the machine is shared,
 * so the minimum is the least disturbed measurement) and the checksum of the
 * decoded samples keeps the work observable.
 *
 * Build: gcc -O2 codecs_harness.c -lspandsp -lbcg729
 * Define BCG729_OLD_API for bcg729 < 1.0.2, whose bcg729Decoder takes
 * (ctx, bitStream, frameErasureFlag, signal).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <spandsp.h>
#include <bcg729/decoder.h>

#define G722_PAYLOAD 80 /* octets per 10 ms at 64 kbit/s */

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* read_file reads a whole file into a malloc'd buffer. */
static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) {
            fclose(f);
            return NULL;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        buf = realloc(buf, cap);
    }
    fclose(f);
    *len = n;
    return buf;
}

static int bench_g722(const uint8_t *data, size_t len, int passes) {
    size_t frames = len / G722_PAYLOAD;
    if (frames == 0) {
        fprintf(stderr, "g722: input shorter than one frame\n");
        return 1;
    }
    g722_decode_state_t *s = g722_decode_init(NULL, 64000, 0);
    if (s == NULL) {
        fprintf(stderr, "g722: g722_decode_init failed\n");
        return 1;
    }
    int16_t out[2 * G722_PAYLOAD];
    double best = -1;
    uint32_t sum = 0;
    for (int p = 0; p < passes; p++) {
        g722_decode_init(s, 64000, 0);
        sum = 0;
        double t0 = now_ns();
        for (size_t i = 0; i < frames; i++) {
            int n = g722_decode(s, out, data + i * G722_PAYLOAD, G722_PAYLOAD);
            sum = sum * 31 + (uint16_t)out[n - 1];
        }
        double t = now_ns() - t0;
        if (best < 0 || t < best)
            best = t;
    }
    g722_decode_free(s);
    printf("%.1f %zu %08x\n", best / (double)frames, frames, sum);
    return 0;
}

static int bench_g729(const uint8_t *data, size_t len, int passes) {
    /* Index the records once: offset and length of each. */
    size_t cap = len + 1, frames = 0;
    size_t *off = malloc(cap * sizeof *off);
    uint8_t *flen = malloc(cap);
    if (off == NULL || flen == NULL)
        return 1;
    for (size_t pos = 0; pos < len;) {
        uint8_t l = data[pos];
        if (l != 0 && l != 2 && l != 10) {
            fprintf(stderr, "g729: bad record length %u at offset %zu\n", l, pos);
            return 1;
        }
        if (pos + 1 + l > len) {
            fprintf(stderr, "g729: truncated record at offset %zu\n", pos);
            return 1;
        }
        off[frames] = pos + 1;
        flen[frames] = l;
        frames++;
        pos += 1 + (size_t)l;
    }
    if (frames == 0) {
        fprintf(stderr, "g729: no frames\n");
        return 1;
    }
    int16_t out[80];
    double best = -1;
    uint32_t sum = 0;
    for (int p = 0; p < passes; p++) {
        bcg729DecoderChannelContextStruct *ctx = initBcg729DecoderChannel();
        if (ctx == NULL) {
            fprintf(stderr, "g729: initBcg729DecoderChannel failed\n");
            return 1;
        }
        sum = 0;
        double t0 = now_ns();
        for (size_t i = 0; i < frames; i++) {
            const uint8_t *payload = data + off[i];
            uint8_t l = flen[i];
#ifdef BCG729_OLD_API
            bcg729Decoder(ctx, (uint8_t *)payload, l == 0, out);
#else
            bcg729Decoder(ctx, payload, l, l == 0, l == 2, 0, out);
#endif
            sum = sum * 31 + (uint16_t)out[79];
        }
        double t = now_ns() - t0;
        closeBcg729DecoderChannel(ctx);
        if (best < 0 || t < best)
            best = t;
    }
    free(off);
    free(flen);
    printf("%.1f %zu %08x\n", best / (double)frames, frames, sum);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s g722|g729 FILE PASSES\n", argv[0]);
        return 2;
    }
    int passes = atoi(argv[3]);
    if (passes < 1) {
        fprintf(stderr, "PASSES must be at least 1\n");
        return 2;
    }
    size_t len = 0;
    uint8_t *data = read_file(argv[2], &len);
    if (data == NULL)
        return 1;
    int rc;
    if (strcmp(argv[1], "g722") == 0)
        rc = bench_g722(data, len, passes);
    else if (strcmp(argv[1], "g729") == 0)
        rc = bench_g729(data, len, passes);
    else {
        fprintf(stderr, "unknown codec %s\n", argv[1]);
        rc = 2;
    }
    free(data);
    return rc;
}
