/*
 * cookiegate.rewrite._speedups: the rewriter's skip scan in C, a speedup of cookiegate/rewrite/_scan.py, which is
 * its specification: skip() and has_explicit_markup() return what the functions of the same names there
 * return, for every input (tests/test_native_scan.py and the fuzzers in fuzz/ hold it to that). Pure functions
 * over bytes: the only Python object touched besides the arguments is the key of a known-tag lookup.
 *
 * Each function below mirrors one part of the pattern SKIP (named in its comment); all of them read only
 * buf[0..n) and return a position in [0, n], or -1 for "this alternative does not match here".
 */
#ifdef COOKIEGATE_SCAN_ONLY /* the scan alone, without Python (fuzz/scan_fuzzer.c) */
#include <stddef.h>
typedef ptrdiff_t Py_ssize_t;
#else
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#endif
#include <string.h>

/* Bumped whenever what the module offers changes: the Python side refuses a build with another number. */
#define SCAN_API 9
#define MAX_NAMES 64
#define MAX_NAME_LEN 32

typedef unsigned char u8;

/* The name tables, as _scan.NAME_TABLES has them (the loader refuses a build whose NAMES differ). */
static const char *const SPECIAL_NAMES[] = {
    "a", "area", "body", "head", "html", "iframe", "meta", "noembed", "noframes", "noscript", "plaintext",
    "script", "style", "textarea", "title", "xmp", NULL,
};
static const char *const INTERESTING_ATTRS[] = {
    "archive", "attributionsrc", "background", "codebase", "content", "data", "data-category",
    "data-cookiegate", "dynsrc", "href", "imagesrcset", "lowsrc", "manifest", "ping", "poster", "src", "srcdoc",
    "srcset", "style", "xlink:href", NULL,
};
static const char *const A_INTERESTING_ATTRS[] = {
    "archive", "attributionsrc", "background", "codebase", "content", "data", "data-category",
    "data-cookiegate", "dynsrc", "imagesrcset", "lowsrc", "manifest", "ping", "poster", "src", "srcdoc",
    "srcset", "style", NULL,
};

typedef struct {
    int count;
    Py_ssize_t len[MAX_NAMES];
    u8 name[MAX_NAMES][MAX_NAME_LEN]; /* lowercased */
    /* The names ending with each byte: most attribute names end in a letter some interesting name ends in
     * too ("title", "type" and "style"), so the names are bucketed by their last byte, compared from the end. */
    u8 bucket_len[256];
    u8 bucket[256][MAX_NAMES];
} NameSet;

/* The module's state: the name tables, built once by the module's exec slot. */
typedef struct {
    NameSet specials;      /* "<" + tag names the scan never consumes */
    NameSet interesting;   /* attribute names that end it on most elements ("style" included) */
    NameSet a_interesting; /* ... and on <a> / <area>, where href only navigates */
} ScanState;

/* Byte classes of the pattern. */
enum {
    C_WS = 1,      /* \t \n \f \r space */
    C_SLASH = 2,   /* / */
    C_GT = 4,      /* > */
    C_LT = 8,      /* < */
    C_EQ = 16,     /* = */
    C_QUOTE = 32,  /* " ' */
    C_ALPHA = 64,  /* A-Z a-z */
    C_STYLE = 128, /* ( & \ : what a safe style value may not hold */
};
static const u8 cls[256] = {
      0,   0,   0,   0,   0,   0,   0,   0,   0,   1,   1,   0,   1,   1,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      1,   0,  32,   0,   0,   0, 128,  32, 128,   0,   0,   0,   0,   0,   0,   2,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   8,  16,   4,   0,
      0,  64,  64,  64,  64,  64,  64,  64,  64,  64,  64,  64,  64,  64,  64,  64,
     64,  64,  64,  64,  64,  64,  64,  64,  64,  64,  64,   0, 128,   0,   0,   0,
      0,  64,  64,  64,  64,  64,  64,  64,  64,  64,  64,  64,  64,  64,  64,  64,
     64,  64,  64,  64,  64,  64,  64,  64,  64,  64,  64,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
};

static u8 lower(u8 c) { return (c >= 'A' && c <= 'Z') ? (u8)(c + 32) : c; }

/* The bytes just before `end` spell one of the names, in any case: the pattern's negative lookbehinds
 * (which may look past the start of the current name, as these comparisons do). */
static int ends_in(const NameSet *set, const u8 *b, Py_ssize_t end) {
    if (end <= 0) return 0;
    u8 last = lower(b[end - 1]);
    for (int j = 0; j < set->bucket_len[last]; j++) {
        int k = set->bucket[last][j];
        Py_ssize_t len = set->len[k];
        if (len > end) continue;
        const u8 *name = set->name[k];
        Py_ssize_t i = len - 2; /* the last byte matched already */
        while (i >= 0 && lower(b[end - len + i]) == name[i]) i--;
        if (i < 0) return 1;
    }
    return 0;
}

static int ends_with_style(const u8 *b, Py_ssize_t end) {
    static const u8 style[] = "style";
    if (end < 5) return 0;
    for (int i = 0; i < 5; i++)
        if (lower(b[end - 5 + i]) != style[i]) return 0;
    return 1;
}

/* [\t\n\f\r ]*+ */
static Py_ssize_t skip_ws(const u8 *b, Py_ssize_t i, Py_ssize_t n) {
    while (i < n && (cls[b[i]] & C_WS)) i++;
    return i;
}

/* [\t\n\f\r /]*+ */
static Py_ssize_t skip_sep(const u8 *b, Py_ssize_t i, Py_ssize_t n) {
    while (i < n && (cls[b[i]] & (C_WS | C_SLASH))) i++;
    return i;
}

/* An attribute name: [^\t\n\f\r /><][^\t\n\f\r /=><]*+ (the first byte may be "="). */
static Py_ssize_t attr_name(const u8 *b, Py_ssize_t i, Py_ssize_t n) {
    if (i >= n || (cls[b[i]] & (C_WS | C_SLASH | C_GT | C_LT))) return -1;
    i++;
    while (i < n && !(cls[b[i]] & (C_WS | C_SLASH | C_EQ | C_GT | C_LT))) i++;
    return i;
}

/* A quoted value "[^"<...]*+" (or with '), `bad` the extra classes it may not hold; -1 if unclosed. */
static Py_ssize_t quoted(const u8 *b, Py_ssize_t i, Py_ssize_t n, int bad) {
    u8 q = b[i];
    i++;
    if (!bad) {
        /* The common case, two vectorized searches: the closing quote, then a "<" before it. */
        const u8 *close = memchr(b + i, q, (size_t)(n - i));
        if (close == NULL || memchr(b + i, '<', (size_t)(close - (b + i))) != NULL) return -1;
        return close - b + 1;
    }
    while (i < n && b[i] != q && !(cls[b[i]] & (C_LT | bad))) i++;
    return (i < n && b[i] == q) ? i + 1 : -1;
}

/* EQ VALUE of _boring_attr (`bad` = C_STYLE for a style attribute's safe value):
 *   [\t\n\f\r ]*+=[\t\n\f\r ]*+
 *   (?:"[^"<]*+"|'[^'<]*+'|[^\t\n\f\r >"'<][^\t\n\f\r ><]*+(?=[\t\n\f\r >])|(?=>)) */
static Py_ssize_t eq_value(const u8 *b, Py_ssize_t i, Py_ssize_t n, int bad) {
    i = skip_ws(b, i, n);
    if (i >= n || b[i] != '=') return -1;
    i = skip_ws(b, i + 1, n);
    if (i >= n) return -1;
    u8 c = cls[b[i]];
    if (c & C_QUOTE) return quoted(b, i, n, bad);
    if (c & C_GT) return i; /* (?=>) */
    if (c & (C_LT | bad)) return -1;
    i++;
    while (i < n && !(cls[b[i]] & (C_WS | C_GT | C_LT | bad))) i++;
    return (i < n && (cls[b[i]] & (C_WS | C_GT))) ? i : -1;
}

/* (?![\t\n\f\r ]*+=) */
static int no_eq(const u8 *b, Py_ssize_t i, Py_ssize_t n) {
    i = skip_ws(b, i, n);
    return !(i < n && b[i] == '=');
}

/* One attribute that cannot make the browser fetch anything (_boring_attr): `interesting` holds the
 * names that end the fast path, "style" among them (a style attribute is boring when its value cannot
 * hold a url()). */
static Py_ssize_t boring_attr(const u8 *b, Py_ssize_t i, Py_ssize_t n, const NameSet *interesting) {
    i = attr_name(b, skip_sep(b, i, n), n);
    if (i < 0) return -1;
    Py_ssize_t r;
    if (!ends_in(interesting, b, i)) {
        r = eq_value(b, i, n, 0);
        if (r >= 0) return r;
        return no_eq(b, i, n) ? i : -1;
    }
    if (!ends_with_style(b, i)) return -1;
    r = eq_value(b, i, n, C_STYLE);
    if (r >= 0) return r;
    return no_eq(b, i, n) ? i : -1;
}

/* One attribute of an end tag (_plain_attr): the value part is optional and falls back to nothing.
 *   [\t\n\f\r /]*+[^\t\n\f\r /><][^\t\n\f\r /=><]*+
 *   (?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:"[^"<]*+"|'[^'<]*+'|[^\t\n\f\r >"'<][^\t\n\f\r ><]*+))? */
static Py_ssize_t plain_attr(const u8 *b, Py_ssize_t i, Py_ssize_t n) {
    i = attr_name(b, skip_sep(b, i, n), n);
    if (i < 0) return -1;
    Py_ssize_t j = skip_ws(b, i, n);
    if (j >= n || b[j] != '=') return i;
    j = skip_ws(b, j + 1, n);
    if (j >= n) return i;
    u8 c = cls[b[j]];
    if (c & C_QUOTE) {
        Py_ssize_t r = quoted(b, j, n, 0);
        return r >= 0 ? r : i;
    }
    if (c & (C_GT | C_LT)) return i;
    j++;
    while (j < n && !(cls[b[j]] & (C_WS | C_GT | C_LT))) j++;
    return j;
}

/* [\t\n\f\r /]*+> */
static Py_ssize_t tag_close(const u8 *b, Py_ssize_t i, Py_ssize_t n) {
    i = skip_sep(b, i, n);
    return (i < n && b[i] == '>') ? i + 1 : -1;
}

/* </[A-Za-z][^\t\n\f\r /><]*+(?:_plain_attr)*+[\t\n\f\r /]*+>  (b[i] == '<', b[i+1] == '/')
 * (the pattern's first end-tag branch is a shortcut for a subset of this one, ending at the same byte) */
static Py_ssize_t end_tag(const u8 *b, Py_ssize_t i, Py_ssize_t n) {
    i += 2;
    if (i >= n || !(cls[b[i]] & C_ALPHA)) return -1;
    i++;
    while (i < n && !(cls[b[i]] & (C_WS | C_SLASH | C_GT | C_LT))) i++;
    for (;;) {
        Py_ssize_t r = plain_attr(b, i, n);
        if (r < 0) break;
        i = r;
    }
    return tag_close(b, i, n);
}

/* The attributes and close of a boring start tag, from the end of its name. */
static Py_ssize_t boring_rest(const u8 *b, Py_ssize_t i, Py_ssize_t n, const NameSet *interesting) {
    for (;;) {
        Py_ssize_t r = boring_attr(b, i, n, interesting);
        if (r < 0) break;
        i = r;
    }
    return tag_close(b, i, n);
}

/* <(?:a|area)(?=[\t\n\f\r />])(?:_boring_attr(_A_INTERESTING))*+[\t\n\f\r /]*+>  (b[i] == '<') */
static Py_ssize_t a_tag(const ScanState *s, const u8 *b, Py_ssize_t i, Py_ssize_t n) {
    Py_ssize_t j = i + 2; /* after "<a" */
    if (!(j < n && (cls[b[j]] & (C_WS | C_SLASH | C_GT)))) {
        if (!(i + 5 < n && lower(b[i + 2]) == 'r' && lower(b[i + 3]) == 'e' && lower(b[i + 4]) == 'a' &&
              (cls[b[i + 5]] & (C_WS | C_SLASH | C_GT))))
            return -1;
        j = i + 5;
    }
    return boring_rest(b, j, n, &s->a_interesting);
}

/* <[A-Za-z][^\t\n\f\r /><]*+ (not one of the special names) (?:_boring_attr)*+[\t\n\f\r /]*+>  */
static Py_ssize_t start_tag(const ScanState *s, const u8 *b, Py_ssize_t i, Py_ssize_t n) {
    i += 2;
    while (i < n && !(cls[b[i]] & (C_WS | C_SLASH | C_GT | C_LT))) i++;
    if (ends_in(&s->specials, b, i)) return -1;
    return boring_rest(b, i, n, &s->interesting);
}

/* <!--(?!-?>)(?:[^<-]++|-(?!-!?>))*+--!?>  (b[i..i+4) == "<!--") */
static Py_ssize_t comment(const u8 *b, Py_ssize_t i, Py_ssize_t n) {
    i += 4;
    if (i < n && b[i] == '>') return -1;
    if (i + 1 < n && b[i] == '-' && b[i + 1] == '>') return -1;
    for (;;) {
        if (i >= n) return -1;
        u8 c = b[i];
        if (c == '<') return -1;
        if (c != '-') {
            i++;
            continue;
        }
        /* a "-" that does not start "--!?>" is text; the one that does closes the comment (or not) */
        if (i + 1 < n && b[i + 1] == '-') {
            if (i + 2 < n && b[i + 2] == '>') return i + 3;
            if (i + 3 < n && b[i + 2] == '!' && b[i + 3] == '>') return i + 4;
        }
        i++;
    }
}

/* The whole _SKIP pattern: (?: text | end tag | <a> | start tag | lone "<" | comment )*+ */
static Py_ssize_t skip_pattern(const ScanState *s, const u8 *b, Py_ssize_t i, Py_ssize_t n) {
    while (i < n) {
        if (b[i] != '<') {
            const u8 *lt = memchr(b + i, '<', (size_t)(n - i));
            if (lt == NULL) return n;
            i = lt - b;
            continue;
        }
        if (i + 1 >= n) return i;
        u8 c = b[i + 1];
        Py_ssize_t r = -1;
        if (c == '/') {
            r = end_tag(b, i, n);
        } else if (cls[c] & C_ALPHA) {
            if (c == 'a' || c == 'A') r = a_tag(s, b, i, n);
            if (r < 0) r = start_tag(s, b, i, n);
        } else if (c == '!') {
            if (i + 3 < n && b[i + 2] == '-' && b[i + 3] == '-') r = comment(b, i, n);
        } else if (c != '?') {
            r = i + 1; /* <(?=[^A-Za-z!/?]) */
        }
        if (r < 0) return i;
        i = r;
    }
    return n;
}

static void load_names(NameSet *set, const char *const *names, const char *prefix) {
    memset(set, 0, sizeof(*set));
    size_t plen = strlen(prefix);
    int k = 0;
    for (; names[k] != NULL; k++) {
        size_t len = strlen(names[k]);
        memcpy(set->name[k], prefix, plen);
        for (size_t i = 0; i < len; i++) set->name[k][plen + i] = lower((u8)names[k][i]);
        set->len[k] = (Py_ssize_t)(len + plen);
        u8 last = set->name[k][len + plen - 1];
        set->bucket[last][set->bucket_len[last]++] = (u8)k;
    }
    set->count = k;
}

/* "data-cookiegate" or "data-category", in any case, in b[0..n). */
static int explicit_markup(const u8 *b, Py_ssize_t n) {
    static const u8 data_[] = "data";
    static const u8 cookiegate[] = "cookiegate";
    static const u8 category[] = "category";
    Py_ssize_t i = 4;
    while (i < n) {
        /* "-" is rarer than any letter of the names: memchr finds it, the rest is compared around it */
        const u8 *dash = memchr(b + i, '-', (size_t)(n - i));
        if (dash == NULL) break;
        Py_ssize_t k = dash - b;
        i = k + 1;
        if (k < 4) continue;
        int ok = 1;
        for (int j = 0; j < 4 && ok; j++) ok = lower(b[k - 4 + j]) == data_[j];
        if (!ok) continue;
        if (k + 11 <= n) {
            int m = 1;
            for (int j = 0; j < 10 && m; j++) m = lower(b[k + 1 + j]) == cookiegate[j];
            if (m) return 1;
        }
        if (k + 9 <= n) {
            int m = 1;
            for (int j = 0; j < 8 && m; j++) m = lower(b[k + 1 + j]) == category[j];
            if (m) return 1;
        }
    }
    return 0;
}

#ifndef COOKIEGATE_SCAN_ONLY

/* skip(buf: bytes, pos: int, plain: Container[bytes] | None) -> int (what is not a container raises TypeError
 * at its first lookup, as `in` does) */
static PyObject *skip(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "skip(buf, pos, plain) takes 3 arguments");
        return NULL;
    }
    PyObject *buf = args[0], *plain = args[2];
    if (!PyBytes_Check(buf)) {
        PyErr_SetString(PyExc_TypeError, "buf must be bytes");
        return NULL;
    }
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]);
    if (pos == -1 && PyErr_Occurred()) return NULL;
    const ScanState *s = PyModule_GetState(module);
    const u8 *b = (const u8 *)PyBytes_AS_STRING(buf);
    Py_ssize_t n = PyBytes_GET_SIZE(buf);
    if (pos < 0) pos = 0; /* as re's match(buf, pos) clamps */
    if (pos > n) pos = n;
    for (;;) {
        pos = skip_pattern(s, b, pos, n);
        /* A start tag seen before that needed nothing: its bytes up to the first ">" are a known key
         * (keys are whole tags whose only ">" outside quotes is their last byte). */
        if (plain == Py_None || pos + 1 >= n || !(cls[b[pos + 1]] & C_ALPHA)) break;
        const u8 *gt = memchr(b + pos, '>', (size_t)(n - pos));
        if (gt == NULL) break;
        Py_ssize_t end = gt - b + 1;
        PyObject *key = PyBytes_FromStringAndSize((const char *)b + pos, end - pos);
        if (key == NULL) return NULL;
        int known = PyAnySet_Check(plain) ? PySet_Contains(plain, key) : PySequence_Contains(plain, key);
        Py_DECREF(key);
        if (known < 0) return NULL;
        if (!known) break;
        pos = end;
    }
    return PyLong_FromSsize_t(pos);
}

/* has_explicit_markup(data: bytes) -> bool: "data-cookiegate" or "data-category" in any case. */
static PyObject *has_explicit_markup(PyObject *module, PyObject *data) {
    (void)module;
    if (!PyBytes_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "data must be bytes");
        return NULL;
    }
    if (explicit_markup((const u8 *)PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))) Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

/* One name table as a tuple of bytes, for the loader's check against the specification's. */
static PyObject *names_tuple(const char *const *names) {
    Py_ssize_t count = 0;
    while (names[count] != NULL) count++;
    PyObject *tuple = PyTuple_New(count);
    if (tuple == NULL) return NULL;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *item = PyBytes_FromString(names[k]);
        if (item == NULL) {
            Py_DECREF(tuple);
            return NULL;
        }
        PyTuple_SET_ITEM(tuple, k, item);
    }
    return tuple;
}

static int exec_module(PyObject *module) {
    ScanState *s = PyModule_GetState(module);
    load_names(&s->specials, SPECIAL_NAMES, "<");
    load_names(&s->interesting, INTERESTING_ATTRS, "");
    load_names(&s->a_interesting, A_INTERESTING_ATTRS, "");
    if (PyModule_AddIntConstant(module, "API", SCAN_API) < 0) return -1;
    PyObject *names = Py_BuildValue("(NNN)", names_tuple(SPECIAL_NAMES), names_tuple(INTERESTING_ATTRS),
                                    names_tuple(A_INTERESTING_ATTRS));
    if (names == NULL) return -1;
    if (PyModule_AddObject(module, "NAMES", names) < 0) {
        Py_DECREF(names);
        return -1;
    }
    return 0;
}

static PyMethodDef module_methods[] = {
    {"skip", (PyCFunction)(void (*)(void))skip, METH_FASTCALL,
     "skip(buf, pos, plain) -> int: where the skip scan stops (cookiegate.rewrite._scan.skip)."},
    {"has_explicit_markup", (PyCFunction)has_explicit_markup, METH_O,
     "has_explicit_markup(data) -> bool: data-cookiegate or data-category, in any case."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, (void *)exec_module},
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_mod_gil
    /* Reads immutable bytes and its own constant state; the set it looks keys up in locks itself. */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "cookiegate.rewrite._speedups",
    .m_doc = "The rewriter's skip scan in C (a speedup of cookiegate.rewrite._scan).",
    .m_size = sizeof(ScanState),
    .m_methods = module_methods,
    .m_slots = module_slots,
};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModuleDef_Init(&module_def); }

#endif /* COOKIEGATE_SCAN_ONLY */
