/* A correct SimpleRNN port in C (Keras 3 keras.layers.SimpleRNN, tanh, with bias).
 *
 * Subprocess port for rnn-parity (see harness/subprocess_port.py):
 *
 *     simple_rnn IN_DIR OUT_DIR
 *
 * reads IN_DIR/x.npy (float32 (B, T, F)), weight_0.npy kernel (F, U),
 * weight_1.npy recurrent kernel (U, U), weight_2.npy bias (U,) and config.txt
 * ("key value" lines), and writes OUT_DIR/output.npy: (B, T, U) with
 * return_sequences, else (B, U); with return_state also state_0.npy (B, U).
 *
 *     h_t = tanh(x_t @ K + b + h_{t-1} @ R),   h_0 = 0
 *
 * go_backwards reads x from the last step to the first and returns the outputs
 * in processing order, as Keras does. No masks, no initial_state, no stateful
 * carry (each call is a fresh process). Accumulates in double.
 *
 * The .npy reader/writer handles little-endian float32 C-order arrays only
 * (the harness writes exactly those) and assumes a little-endian host.
 *
 * What it gets wrong: nothing. Expected: match, no flags.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIMS 4

typedef struct {
    int ndim;
    long shape[MAX_DIMS];
    long size;
    float *data;
} Array;

static void die(const char *what, const char *detail) {
    fprintf(stderr, "simple_rnn: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

/* ---------------------------------------------------------------- .npy I/O */

static Array read_npy(const char *path) {
    Array a = {0};
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open", path);
    unsigned char magic[8];
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "\x93NUMPY", 6) != 0) die("not a .npy file", path);
    unsigned long header_len;
    if (magic[6] == 1) {
        unsigned char b[2];
        if (fread(b, 1, 2, f) != 2) die("truncated header", path);
        header_len = b[0] | (b[1] << 8);
    } else {
        unsigned char b[4];
        if (fread(b, 1, 4, f) != 4) die("truncated header", path);
        header_len = b[0] | (b[1] << 8) | ((unsigned long)b[2] << 16) | ((unsigned long)b[3] << 24);
    }
    char *header = malloc(header_len + 1);
    if (!header || fread(header, 1, header_len, f) != header_len) die("truncated header", path);
    header[header_len] = '\0';
    if (!strstr(header, "'descr': '<f4'")) die("expected little-endian float32 ('<f4')", path);
    if (strstr(header, "'fortran_order': True")) die("expected C order", path);
    char *s = strstr(header, "'shape': (");
    if (!s) die("no shape in header", path);
    s += strlen("'shape': (");
    a.size = 1;
    while (*s && *s != ')') {
        if (*s >= '0' && *s <= '9') {
            if (a.ndim == MAX_DIMS) die("too many dimensions", path);
            long n = strtol(s, &s, 10);
            a.shape[a.ndim++] = n;
            a.size *= n;
        } else {
            s++;
        }
    }
    free(header);
    a.data = malloc(sizeof(float) * (a.size > 0 ? a.size : 1));
    if (!a.data || (long)fread(a.data, sizeof(float), a.size, f) != a.size) die("truncated data", path);
    fclose(f);
    return a;
}

static void write_npy(const char *path, const float *data, int ndim, const long *shape) {
    char dict[256], dims[128] = "";
    long size = 1;
    for (int k = 0; k < ndim; k++) {
        char part[32];
        snprintf(part, sizeof part, "%ld%s", shape[k], (ndim == 1 || k < ndim - 1) ? ", " : "");
        strcat(dims, part);
        size *= shape[k];
    }
    if (ndim == 1) dims[strlen(dims) - 1] = '\0'; /* "(n,)" */
    int len = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", dims);
    int total = 10 + len + 1; /* magic + version + length, dict, newline */
    int pad = (64 - total % 64) % 64;
    unsigned short header_len = (unsigned short)(len + pad + 1);
    FILE *f = fopen(path, "wb");
    if (!f) die("cannot write", path);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    unsigned char hl[2] = {header_len & 0xff, header_len >> 8};
    fwrite(hl, 1, 2, f);
    fwrite(dict, 1, len, f);
    for (int k = 0; k < pad; k++) fputc(' ', f);
    fputc('\n', f);
    if ((long)fwrite(data, sizeof(float), size, f) != size) die("short write", path);
    fclose(f);
}

/* ------------------------------------------------------------- config.txt */

typedef struct {
    long units, batch, timesteps, features;
    int return_sequences, return_state, go_backwards, use_bias;
    char activation[256];
} Config;

static Config read_config(const char *path) {
    Config c = {0};
    c.use_bias = 1;
    strcpy(c.activation, "tanh");
    FILE *f = fopen(path, "r");
    if (!f) die("cannot open", path);
    char line[1024], key[256], value[256];
    while (fgets(line, sizeof line, f)) { /* one "key value" per line */
        if (sscanf(line, "%255s %255s", key, value) != 2) continue;
        if (!strcmp(key, "units")) c.units = atol(value);
        else if (!strcmp(key, "batch")) c.batch = atol(value);
        else if (!strcmp(key, "timesteps")) c.timesteps = atol(value);
        else if (!strcmp(key, "features")) c.features = atol(value);
        else if (!strcmp(key, "return_sequences")) c.return_sequences = atoi(value);
        else if (!strcmp(key, "return_state")) c.return_state = atoi(value);
        else if (!strcmp(key, "go_backwards")) c.go_backwards = atoi(value);
        else if (!strcmp(key, "use_bias")) c.use_bias = atoi(value);
        else if (!strcmp(key, "activation")) snprintf(c.activation, sizeof c.activation, "%s", value);
    }
    fclose(f);
    return c;
}

/* ------------------------------------------------------------------ main */

static void join(char *out, size_t n, const char *dir, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s IN_DIR OUT_DIR\n", argv[0]);
        return 2;
    }
    char path[4096];
    join(path, sizeof path, argv[1], "config.txt");
    Config cfg = read_config(path);
    if (strcmp(cfg.activation, "tanh") != 0) die("only activation tanh is implemented, got", cfg.activation);
    if (!cfg.use_bias) die("only use_bias=True is implemented", NULL);

    join(path, sizeof path, argv[1], "x.npy");
    Array x = read_npy(path);
    join(path, sizeof path, argv[1], "weight_0.npy");
    Array kernel = read_npy(path);
    join(path, sizeof path, argv[1], "weight_1.npy");
    Array recurrent = read_npy(path);
    join(path, sizeof path, argv[1], "weight_2.npy");
    Array bias = read_npy(path);

    if (x.ndim != 3 || kernel.ndim != 2 || recurrent.ndim != 2 || bias.ndim != 1) die("unexpected array ranks", NULL);
    long B = x.shape[0], T = x.shape[1], F = x.shape[2], U = recurrent.shape[0];
    if (kernel.shape[0] != F || kernel.shape[1] != U || recurrent.shape[1] != U || bias.shape[0] != U)
        die("weight shapes do not match x and units", NULL);
    if (cfg.units && cfg.units != U) die("config units differ from the weights", NULL);

    double *h = calloc(B * U, sizeof(double));
    double *next = calloc(U, sizeof(double));
    float *seq = calloc(B * T * U > 0 ? B * T * U : 1, sizeof(float));
    for (long b = 0; b < B; b++) {
        double *hb = h + b * U;
        for (long k = 0; k < T; k++) { /* k: processing step */
            long t = cfg.go_backwards ? T - 1 - k : k;
            const float *xt = x.data + (b * T + t) * F;
            for (long j = 0; j < U; j++) {
                double acc = 0.0;
                for (long i = 0; i < F; i++) acc += (double)xt[i] * kernel.data[i * U + j];
                acc += bias.data[j];
                double rec = 0.0;
                for (long i = 0; i < U; i++) rec += hb[i] * recurrent.data[i * U + j];
                next[j] = tanh(acc + rec);
            }
            memcpy(hb, next, U * sizeof(double));
            for (long j = 0; j < U; j++) seq[(b * T + k) * U + j] = (float)hb[j];
        }
    }

    float *last = malloc(sizeof(float) * (B * U > 0 ? B * U : 1));
    for (long i = 0; i < B * U; i++) last[i] = (float)h[i];
    join(path, sizeof path, argv[2], "output.npy");
    if (cfg.return_sequences) {
        long shape[3] = {B, T, U};
        write_npy(path, seq, 3, shape);
    } else {
        long shape[2] = {B, U};
        write_npy(path, last, 2, shape);
    }
    if (cfg.return_state) {
        long shape[2] = {B, U};
        join(path, sizeof path, argv[2], "state_0.npy");
        write_npy(path, last, 2, shape);
    }
    return 0;
}
