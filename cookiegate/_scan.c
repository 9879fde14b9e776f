/*
 * cookiegate._scan: the rewriter's skip scan in C, an optional accelerator. Where it is not built (or is
 * stale), the pure-Python scan it mirrors runs instead, with the same results.
 *
 * Skipper.skip(buf, pos, plain) returns exactly what the pure-Python rewriter computes with
 * cookiegate.rewrite._SKIP.match(buf, pos).end() followed by its known-tag loop (see
 * cookiegate.rewrite._skip_python): text, lone "<", comments with nothing tag-shaped inside, end tags,
 * and start tags that cannot make the browser fetch anything are consumed; a start tag whose exact bytes
 * (up to its first ">") are in the set `plain` is consumed too. The scan stops at the first construct the
 * Python side must look at. The regular expression is the specification: tests/test_native_scan.py holds
 * this file to it on generated and real markup, and the whole rewriter test suite runs on both.
 *
 * Every function below mirrors one part of the pattern (named in its comment); all of them read only
 * buf[0..n) and return a position in [0, n] or -1 for "this alternative does not match here". Nothing is
 * allocated except the key of a known-tag lookup. The name tables (which tag and attribute names end the
 * fast path) come from Python, so the two implementations cannot drift apart on them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <structmember.h>

/* Bumped whenever what the module offers changes: Python refuses a stale build with another number. */
#define SCAN_API 8
#define MAX_NAMES 64
#define MAX_NAME_LEN 32

typedef unsigned char u8;

typedef struct {
    int count;
    Py_ssize_t len[MAX_NAMES];
    u8 name[MAX_NAMES][MAX_NAME_LEN]; /* lowercased */
    /* The names ending with each (lowercased) byte: most attribute names end in a letter some interesting
     * name ends in too ("title", "type" and "style"), so the names are bucketed by their last byte and
     * compared from the end. */
    u8 bucket_len[256];
    u8 bucket[256][MAX_NAMES];
} NameSet;

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
static u8 cls[256];

static u8 lower(u8 c) { return (c >= 'A' && c <= 'Z') ? (u8)(c + 32) : c; }

static void init_classes(void) {
    const char *ws = "\t\n\f\r ";
    for (const char *p = ws; *p; p++) cls[(u8)*p] |= C_WS;
    cls['/'] |= C_SLASH;
    cls['>'] |= C_GT;
    cls['<'] |= C_LT;
    cls['='] |= C_EQ;
    cls['"'] |= C_QUOTE;
    cls['\''] |= C_QUOTE;
    for (int c = 'A'; c <= 'Z'; c++) cls[c] |= C_ALPHA;
    for (int c = 'a'; c <= 'z'; c++) cls[c] |= C_ALPHA;
    cls['('] |= C_STYLE;
    cls['&'] |= C_STYLE;
    cls['\\'] |= C_STYLE;
}

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

typedef struct {
    PyObject_HEAD
    NameSet specials;    /* "<" + tag names the fast path never consumes */
    NameSet interesting; /* attribute names that end it on most elements ("style" included) */
    NameSet a_interesting; /* ... and on <a> / <area>, where href only navigates */
} Skipper;

/* <(?:a|area)(?=[\t\n\f\r />])(?:_boring_attr(_A_INTERESTING))*+[\t\n\f\r /]*+>  (b[i] == '<') */
static Py_ssize_t a_tag(const Skipper *s, const u8 *b, Py_ssize_t i, Py_ssize_t n) {
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
static Py_ssize_t start_tag(const Skipper *s, const u8 *b, Py_ssize_t i, Py_ssize_t n) {
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
static Py_ssize_t skip_pattern(const Skipper *s, const u8 *b, Py_ssize_t i, Py_ssize_t n) {
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

static int load_names(NameSet *set, PyObject *names, const char *prefix) {
    memset(set, 0, sizeof(*set));
    PyObject *seq = PySequence_Fast(names, "names must be a sequence of bytes");
    if (seq == NULL) return -1;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    Py_ssize_t plen = (Py_ssize_t)strlen(prefix);
    if (count > MAX_NAMES) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "too many names");
        return -1;
    }
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, k);
        if (!PyBytes_Check(item)) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_TypeError, "names must be bytes");
            return -1;
        }
        Py_ssize_t len = PyBytes_GET_SIZE(item);
        if (len < 1 || len + plen > MAX_NAME_LEN) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_ValueError, "name empty or too long");
            return -1;
        }
        const u8 *src = (const u8 *)PyBytes_AS_STRING(item);
        memcpy(set->name[k], prefix, (size_t)plen);
        for (Py_ssize_t i = 0; i < len; i++) set->name[k][plen + i] = lower(src[i]);
        set->len[k] = len + plen;
        u8 last = set->name[k][len + plen - 1];
        set->bucket[last][set->bucket_len[last]++] = (u8)k;
    }
    set->count = (int)count;
    Py_DECREF(seq);
    return 0;
}

static int Skipper_init(Skipper *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"special_tags", "interesting_attrs", "a_interesting_attrs", NULL};
    PyObject *specials, *interesting, *a_interesting;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO", kwlist, &specials, &interesting, &a_interesting))
        return -1;
    if (load_names(&self->specials, specials, "<") < 0) return -1;
    if (load_names(&self->interesting, interesting, "") < 0) return -1;
    if (load_names(&self->a_interesting, a_interesting, "") < 0) return -1;
    return 0;
}

/* skip(buf: bytes, pos: int, plain: set[bytes] | None) -> int */
static PyObject *Skipper_skip(Skipper *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "skip(buf, pos, plain) takes 3 arguments");
        return NULL;
    }
    PyObject *buf = args[0], *plain = args[2];
    if (!PyBytes_Check(buf)) {
        PyErr_SetString(PyExc_TypeError, "buf must be bytes");
        return NULL;
    }
    if (plain != Py_None && !PyAnySet_Check(plain)) {
        PyErr_SetString(PyExc_TypeError, "plain must be a set or None");
        return NULL;
    }
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]);
    if (pos == -1 && PyErr_Occurred()) return NULL;
    const u8 *b = (const u8 *)PyBytes_AS_STRING(buf);
    Py_ssize_t n = PyBytes_GET_SIZE(buf);
    if (pos < 0) pos = 0; /* as re's match(buf, pos) clamps */
    if (pos > n) pos = n;
    for (;;) {
        pos = skip_pattern(self, b, pos, n);
        /* A start tag seen before that needed nothing: its bytes up to the first ">" are a known key
         * (keys are whole tags whose only ">" outside quotes is their last byte). */
        if (plain == Py_None || pos + 1 >= n || !(cls[b[pos + 1]] & C_ALPHA)) break;
        const u8 *gt = memchr(b + pos, '>', (size_t)(n - pos));
        if (gt == NULL) break;
        Py_ssize_t end = gt - b + 1;
        PyObject *key = PyBytes_FromStringAndSize((const char *)b + pos, end - pos);
        if (key == NULL) return NULL;
        int known = PySet_Contains(plain, key);
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
    const u8 *b = (const u8 *)PyBytes_AS_STRING(data);
    Py_ssize_t n = PyBytes_GET_SIZE(data);
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
            if (m) Py_RETURN_TRUE;
        }
        if (k + 9 <= n) {
            int m = 1;
            for (int j = 0; j < 8 && m; j++) m = lower(b[k + 1 + j]) == category[j];
            if (m) Py_RETURN_TRUE;
        }
    }
    Py_RETURN_FALSE;
}

static PyMethodDef Skipper_methods[] = {
    {"skip", (PyCFunction)(void (*)(void))Skipper_skip, METH_FASTCALL,
     "skip(buf, pos, plain) -> int: where the skip scan stops (see cookiegate.rewrite._skip_python)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SkipperType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cookiegate._scan.Skipper",
    .tp_basicsize = sizeof(Skipper),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The rewriter's skip scan over one set of tag and attribute names.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Skipper_init,
    .tp_methods = Skipper_methods,
};

static PyMethodDef module_methods[] = {
    {"has_explicit_markup", (PyCFunction)has_explicit_markup, METH_O,
     "has_explicit_markup(data) -> bool: data-cookiegate or data-category, in any case."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "cookiegate._scan",
    .m_doc = "The rewriter's skip scan in C (optional accelerator).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__scan(void) {
    init_classes();
    if (PyType_Ready(&SkipperType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&SkipperType);
    if (PyModule_AddObject(m, "Skipper", (PyObject *)&SkipperType) < 0) {
        Py_DECREF(&SkipperType);
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddIntConstant(m, "API", SCAN_API) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
