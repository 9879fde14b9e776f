/*
 * libFuzzer target for the rewriter's C skip scan (cookiegate/rewrite/_speedups.c), built alone, without
 * Python, under AddressSanitizer and UndefinedBehaviorSanitizer:
 *
 *     clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *         fuzz/scan_fuzzer.c -o build/scan_fuzzer
 *     build/scan_fuzzer build/corpus -max_total_time=600
 *
 * The input's first byte is where the scan starts, the rest the page. Each input is copied into a buffer of
 * exactly its size, so a read one byte past the end is a report. Checked besides memory safety: the scan
 * stops within [start, n]; it stops again where it stopped (it stops at a construct it cannot consume); the
 * explicit-markup search answers as a plain lower-cased substring search. That the scan stops where its
 * Python specification stops is checked by the atheris fuzzer (fuzz/harness.py) and the suite.
 */
#define COOKIEGATE_SCAN_ONLY
#include "../cookiegate/rewrite/_speedups.c"

#include <stdint.h>
#include <stdlib.h>

static ScanState state;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    load_names(&state.specials, SPECIAL_NAMES, "<");
    load_names(&state.interesting, INTERESTING_ATTRS, "");
    load_names(&state.a_interesting, A_INTERESTING_ATTRS, "");
    load_names(&state.foreign_stops, FOREIGN_STOPS, "<");
    load_names(&state.foreign_end_stops, FOREIGN_END_STOPS, "");
    return 0;
}

/* The reference for explicit_markup(): lower-case the bytes, then look for either name. */
static int explicit_markup_reference(const u8 *b, Py_ssize_t n) {
    static const char *const names[] = {"data-cookiegate", "data-category"};
    for (int k = 0; k < 2; k++) {
        Py_ssize_t len = (Py_ssize_t)strlen(names[k]);
        for (Py_ssize_t i = 0; i + len <= n; i++) {
            Py_ssize_t j = 0;
            while (j < len && lower(b[i + j]) == (u8)names[k][j]) j++;
            if (j == len) return 1;
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    Py_ssize_t n = (Py_ssize_t)size - 1;
    u8 *page = malloc(size - 1 ? size - 1 : 1);
    if (page == NULL) return 0;
    memcpy(page, data + 1, size - 1);
    Py_ssize_t start = data[0] < n ? data[0] : n;
    Py_ssize_t stop = skip_pattern(&state, page, start, n);
    if (stop < start || stop > n) abort();
    if (skip_pattern(&state, page, stop, n) != stop) abort();
    if (explicit_markup(page, n) != explicit_markup_reference(page, n)) abort();
    free(page);
    return 0;
}
