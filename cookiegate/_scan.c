/*
 * cookiegate._scan: the gateway's optional C accelerators. Where it is not built (or is stale), the
 * pure-Python code it mirrors runs instead, with the same results:
 *   - Skipper: the rewriter's skip scan (below);
 *   - Entry and PassGate: the middleware's per-request step and the pass-through of responses
 *     that need nothing; VisitBase: the base of cookiegate.gateway.Visit, so that making one is one
 *     allocation and three stores;
 *   - MemoKey: the decision memo's key material;
 *   - MiddlewareBase: the base of cookiegate.middleware.CookieGateMiddleware, whose call runs the entry
 *     and hands the app's awaitable back (at the end).
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

/* Bumped whenever what the module offers changes (skip()'s meaning, PassGate, Entry, VisitBase, MemoKey,
 * MiddlewareBase): Python refuses a stale build with another number. */
#define SCAN_API 7
#define MAX_NAMES 64
#define MAX_NAME_LEN 32

typedef unsigned char u8;

/* Rare paths kept out of the per-request code's cache lines (a request runs only a few hundred instructions
 * here, and under load the code they sit in is evicted between requests). */
#if defined(__GNUC__) || defined(__clang__)
#define COLD __attribute__((cold, noinline))
#else
#define COLD
#endif

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

/* ------------------------------------------------------------------------------------------------------
 * PassGate: the send wrapper's pass-through in C.
 *
 * Most responses (assets, APIs) need nothing from the gateway. PassGate(slow, gateway, visit, send, scope)
 * is the `send` the app receives: it looks at the http.response.start headers exactly as
 * cookiegate.response.ResponseGate._on_start does (the last Content-Type, any Set-Cookie; names compared
 * ASCII-case-insensitively) and, when the response is no page (page_kind below) and sets no cookie, hands that message
 * and every later one to `send` untouched. Otherwise, and for any headers not shaped as ASGI says (a
 * list or tuple of (bytes, bytes) pairs), it makes the Python gate, slow(gateway, visit, send, scope),
 * and passes it this message and every later one, so the Python code alone decides everything beyond
 * "pass through". tests/test_native_gate.py holds the two to the same choice.
 * ---------------------------------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *slow_class;
    PyObject *gateway;
    PyObject *visit;
    PyObject *send;
    PyObject *scope;
    PyObject *slow;   /* the Python gate, once the start showed work (NULL before) */
    int passing;      /* the start showed no work: everything goes to send */
    vectorcallfunc vectorcall;
} PassGate;

static PyObject *str_type, *str_headers, *str_start, *str_gate_start;

/* What the start headers show: 0 nothing (pass through); NEEDS_GATE plus IS_HTML and/or HAS_COOKIE (the
 * Python gate's _gate_start takes them from there; NEEDS_GATE alone: another document a browser renders);
 * ODD_SHAPE (the Python gate reads them itself); -1 error. */
enum { IS_HTML = 1, HAS_COOKIE = 2, NEEDS_GATE = 4, ODD_SHAPE = 8 };

/* cookiegate.response.page_kind, its specification (a test holds the two together): what a response's
 * (last) Content-Type makes it for a browser. NULL: none, which a browser sniffs. */
enum { NOT_A_PAGE = 0, HTML_PAGE = 1, OTHER_DOCUMENT = 2 };

/* Whether the len bytes at s are `name` (lower case) in any ASCII case: header names and media types. */
static int is_lower_name(const u8 *s, Py_ssize_t len, const char *name) {
    Py_ssize_t n = (Py_ssize_t)strlen(name);
    if (len != n) return 0;
    for (Py_ssize_t j = 0; j < n; j++)
        if (lower(s[j]) != (u8)name[j]) return 0;
    return 1;
}

static int page_kind(const char *value, Py_ssize_t len) {
    if (value == NULL) return OTHER_DOCUMENT;
    const u8 *v = (const u8 *)value;
    while (len > 0 && (*v == ' ' || *v == '\t')) { v++; len--; }
    if (len >= 9 && is_lower_name(v, 9, "text/html")) return HTML_PAGE;
    Py_ssize_t end = 0;
    while (end < len && v[end] != ';') end++;
    while (end > 0 && (v[end - 1] == ' ' || v[end - 1] == '\t')) end--;
    if (end == 0 || is_lower_name(v, end, "unknown/unknown") || is_lower_name(v, end, "application/unknown")
        || is_lower_name(v, end, "*/*") || is_lower_name(v, end, "text/xml")
        || is_lower_name(v, end, "application/xml"))
        return OTHER_DOCUMENT;
    if (end >= 4 && is_lower_name(v + end - 4, 4, "+xml")) return OTHER_DOCUMENT;
    return NOT_A_PAGE;
}

static int start_needs_gate(PyObject *message) {
    PyObject *headers = PyDict_GetItemWithError(message, str_headers);
    if (headers == NULL) {
        if (PyErr_Occurred()) return -1;
        return 0; /* no headers: neither HTML nor a cookie */
    }
    if (!PyList_CheckExact(headers) && !PyTuple_CheckExact(headers)) return ODD_SHAPE;
    int has_cookie = 0;
    const char *content_type = NULL;
    Py_ssize_t content_type_len = 0;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(headers);
    /* Nothing below runs Python code, so the list cannot change (or be freed) under the loop. */
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(headers, i);
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 2) return ODD_SHAPE;
        PyObject *key = PyTuple_GET_ITEM(item, 0), *value = PyTuple_GET_ITEM(item, 1);
        if (!PyBytes_CheckExact(key) || !PyBytes_CheckExact(value)) return ODD_SHAPE;
        Py_ssize_t size = PyBytes_GET_SIZE(key);
        const u8 *k = (const u8 *)PyBytes_AS_STRING(key);
        if (is_lower_name(k, size, "content-type")) { /* the last one counts, as in the Python gate */
            content_type = PyBytes_AS_STRING(value);
            content_type_len = PyBytes_GET_SIZE(value);
        } else if (is_lower_name(k, size, "set-cookie")) {
            has_cookie = 1;
        }
    }
    int kind = page_kind(content_type, content_type_len);
    if (kind == NOT_A_PAGE && !has_cookie) return 0;
    return NEEDS_GATE | (kind == HTML_PAGE ? IS_HTML : 0) | (has_cookie ? HAS_COOKIE : 0);
}

static int is_start(PyObject *message) {
    /* 1: an http.response.start message (as a dict); 0: anything else; -1: error set. */
    if (!PyDict_CheckExact(message)) return 0;
    PyObject *kind = PyDict_GetItemWithError(message, str_type);
    if (kind == NULL) return PyErr_Occurred() ? -1 : 0;
    if (kind == str_start) return 1;
    /* Frameworks' "http.response.start" literals are not interned (the dots), so this is the common case:
     * compared inline rather than through PyUnicode_Compare (one library function less per response). */
    if (!PyUnicode_CheckExact(kind) || PyUnicode_GET_LENGTH(kind) != 19) return 0;
    if (PyUnicode_IS_COMPACT_ASCII(kind)) return memcmp(PyUnicode_DATA(kind), "http.response.start", 19) == 0;
    return PyUnicode_Compare(kind, str_start) == 0; /* another representation: the general compare */
}

static int make_slow(PassGate *self) {
    PyObject *slow = PyObject_CallFunctionObjArgs(self->slow_class, self->gateway, self->visit, self->send,
                                                  self->scope, NULL);
    if (slow == NULL) return -1;
    self->slow = slow;
    return 0;
}

/* The start showed work (needs != 0), or the message is not a dict (needs 0): the Python gate takes over.
 * Out of line and marked cold, so that the pass-through path below stays a few cache lines of code. */
static COLD PyObject *hand_to_python_gate(PassGate *self, PyObject *message, int needs) {
    if (make_slow(self) < 0) return NULL;
    if (needs & NEEDS_GATE) {
        /* What the headers show is known: straight to the gated start (the page's time to first byte). */
        PyObject *call[4] = {self->slow, message, (needs & IS_HTML) ? Py_True : Py_False,
                             (needs & HAS_COOKIE) ? Py_True : Py_False};
        return PyObject_VectorcallMethod(str_gate_start, call, 4 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    }
    return PyObject_CallOneArg(self->slow, message);
}

static COLD PyObject *refuse_send_arguments(void) {
    PyErr_SetString(PyExc_TypeError, "send() takes exactly one message");
    return NULL;
}

static PyObject *PassGate_vectorcall(PyObject *self_, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    PassGate *self = (PassGate *)self_;
    if (PyVectorcall_NARGS(nargsf) != 1 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0))
        return refuse_send_arguments();
    PyObject *message = args[0];
    if (self->slow != NULL) return PyObject_CallOneArg(self->slow, message);
    if (self->passing) return PyObject_CallOneArg(self->send, message);
    /* Not the dict every server and framework sends: the Python gate reads it its own way. */
    if (!PyDict_CheckExact(message)) return hand_to_python_gate(self, message, 0);
    int start = is_start(message);
    if (start < 0) return NULL;
    if (!start) return PyObject_CallOneArg(self->send, message); /* as the Python gate: nothing held yet */
    int needs = start_needs_gate(message);
    if (needs < 0) return NULL;
    if (needs) return hand_to_python_gate(self, message, needs);
    self->passing = 1;
    return PyObject_CallOneArg(self->send, message);
}

static PyObject *make_pass_gate(PyTypeObject *type, PyObject *slow_class, PyObject *gateway, PyObject *visit,
                                PyObject *send, PyObject *scope) {
    PassGate *self = PyObject_GC_New(PassGate, type);
    if (self == NULL) return NULL;
    Py_INCREF(slow_class); self->slow_class = slow_class;
    Py_INCREF(gateway); self->gateway = gateway;
    Py_INCREF(visit); self->visit = visit;
    Py_INCREF(send); self->send = send;
    Py_INCREF(scope); self->scope = scope;
    self->slow = NULL;
    self->passing = 0;
    self->vectorcall = PassGate_vectorcall;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

static PyObject *PassGate_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    PyObject *slow_class, *gateway, *visit, *send, *scope;
    if (kwds != NULL && PyDict_GET_SIZE(kwds) != 0) {
        PyErr_SetString(PyExc_TypeError, "PassGate() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_UnpackTuple(args, "PassGate", 5, 5, &slow_class, &gateway, &visit, &send, &scope)) return NULL;
    return make_pass_gate(type, slow_class, gateway, visit, send, scope);
}

static int PassGate_traverse(PassGate *self, visitproc visit, void *arg) {
    Py_VISIT(self->slow_class);
    Py_VISIT(self->gateway);
    Py_VISIT(self->visit);
    Py_VISIT(self->send);
    Py_VISIT(self->scope);
    Py_VISIT(self->slow);
    return 0;
}

static int PassGate_clear(PassGate *self) {
    Py_CLEAR(self->slow_class);
    Py_CLEAR(self->gateway);
    Py_CLEAR(self->visit);
    Py_CLEAR(self->send);
    Py_CLEAR(self->scope);
    Py_CLEAR(self->slow);
    return 0;
}

static void PassGate_dealloc(PassGate *self) {
    PyObject_GC_UnTrack(self);
    PassGate_clear(self);
    PyObject_GC_Del(self);
}

static PyObject *PassGate_get_slow(PassGate *self, void *closure) {
    (void)closure;
    if (self->slow == NULL) Py_RETURN_NONE;
    Py_INCREF(self->slow);
    return self->slow;
}

static PyObject *PassGate_get_passing(PassGate *self, void *closure) {
    (void)closure;
    return PyBool_FromLong(self->passing);
}

static PyGetSetDef PassGate_getset[] = {
    {"slow", (getter)PassGate_get_slow, NULL, "The Python gate, once the start showed work (else None).", NULL},
    {"passing", (getter)PassGate_get_passing, NULL, "True once the start showed nothing to do.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef PassGate_members[] = {
    {"visit", T_OBJECT_EX, offsetof(PassGate, visit), READONLY, "The request's visit."},
    {"send", T_OBJECT_EX, offsetof(PassGate, send), READONLY, "The server's send."},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject PassGateType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cookiegate._scan.PassGate",
    .tp_basicsize = sizeof(PassGate),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "PassGate(slow, gateway, visit, send, scope): the send wrapper's pass-through in C.",
    .tp_new = PassGate_new,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(PassGate, vectorcall),
    .tp_traverse = (traverseproc)PassGate_traverse,
    .tp_clear = (inquiry)PassGate_clear,
    .tp_dealloc = (destructor)PassGate_dealloc,
    .tp_getset = PassGate_getset,
    .tp_members = PassGate_members,
};

/* ------------------------------------------------------------------------------------------------------
 * MemoKey: what the decision memo is keyed by, in C (cookiegate.gateway.memo_materials is its
 * specification). MemoKey(address_names, deciding_names).materials(peer, headers) returns the pair
 * (address, full): `address` is "<len(peer)> <peer>" then, for each header named in address_names (in
 * any case, in order), "\n<name> <len(value)> <value>" with the name lower-cased; `full` is address +
 * "\n\n" + the headers named in deciding_names, each "<name> <len(value)> <value>", joined by "\n".
 * None when the headers are not a list or tuple of (bytes, bytes) tuples: the Python code reads those.
 * ---------------------------------------------------------------------------------------------------- */

#define MEMO_MAX_NAMES 8

typedef struct {
    PyObject_HEAD
    int count;
    int address_count; /* names [0, address_count) decide the address, the rest only the decision */
    Py_ssize_t len[MEMO_MAX_NAMES];
    u8 name[MEMO_MAX_NAMES][MAX_NAME_LEN];
} MemoKey;

static int MemoKey_init(MemoKey *self, PyObject *args, PyObject *kwds) {
    PyObject *address_names, *deciding_names;
    static char *kwlist[] = {"address_names", "deciding_names", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!", kwlist, &PyTuple_Type, &address_names, &PyTuple_Type,
                                     &deciding_names))
        return -1;
    self->count = 0;
    PyObject *groups[2] = {address_names, deciding_names};
    for (int g = 0; g < 2; g++) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(groups[g]); i++) {
            PyObject *name = PyTuple_GET_ITEM(groups[g], i);
            if (!PyBytes_Check(name) || PyBytes_GET_SIZE(name) == 0 || PyBytes_GET_SIZE(name) > MAX_NAME_LEN
                || self->count >= MEMO_MAX_NAMES) {
                PyErr_SetString(PyExc_ValueError, "names must be 1 to 32 lower-case bytes, 8 at most");
                return -1;
            }
            const u8 *b = (const u8 *)PyBytes_AS_STRING(name);
            for (Py_ssize_t j = 0; j < PyBytes_GET_SIZE(name); j++) {
                if (lower(b[j]) != b[j]) {
                    PyErr_SetString(PyExc_ValueError, "names must be 1 to 32 lower-case bytes, 8 at most");
                    return -1;
                }
                self->name[self->count][j] = b[j];
            }
            self->len[self->count] = PyBytes_GET_SIZE(name);
            self->count++;
        }
        if (g == 0) self->address_count = self->count;
    }
    return 0;
}

/* Which name `key` is, in any case: its index, or -1. */
static int memo_name(const MemoKey *self, const u8 *key, Py_ssize_t size) {
    for (int k = 0; k < self->count; k++) {
        if (self->len[k] != size) continue;
        Py_ssize_t j = 0;
        while (j < size && lower(key[j]) == self->name[k][j]) j++;
        if (j == size) return k;
    }
    return -1;
}

static Py_ssize_t decimal_digits(Py_ssize_t n) {
    Py_ssize_t d = 1;
    while (n >= 10) { n /= 10; d++; }
    return d;
}

/* "<name> <len(value)> <value>" at out (lower-cased name); returns the end. */
static char *memo_item(char *out, const MemoKey *self, int k, const char *value, Py_ssize_t value_len) {
    memcpy(out, self->name[k], (size_t)self->len[k]);
    out += self->len[k];
    out += sprintf(out, " %zd ", value_len);
    memcpy(out, value, (size_t)value_len);
    return out + value_len;
}

static PyObject *MemoKey_materials(MemoKey *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "materials(peer: bytes, headers)");
        return NULL;
    }
    PyObject *peer = args[0], *headers = args[1];
    if (!PyList_CheckExact(headers) && !PyTuple_CheckExact(headers)) Py_RETURN_NONE;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(headers);
    Py_ssize_t peer_len = PyBytes_GET_SIZE(peer);
    Py_ssize_t address_len = decimal_digits(peer_len) + 1 + peer_len, rest_len = 0, rest_count = 0;
    /* First pass: the sizes (and the shapes). Nothing here or in the second pass runs Python code, so the
     * list is the same in both. */
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(headers, i);
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 2) Py_RETURN_NONE;
        PyObject *key = PyTuple_GET_ITEM(item, 0), *value = PyTuple_GET_ITEM(item, 1);
        if (!PyBytes_CheckExact(key) || !PyBytes_CheckExact(value)) Py_RETURN_NONE;
        int k = memo_name(self, (const u8 *)PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key));
        if (k < 0) continue;
        Py_ssize_t value_len = PyBytes_GET_SIZE(value);
        Py_ssize_t size = self->len[k] + 1 + decimal_digits(value_len) + 1 + value_len;
        if (k < self->address_count) {
            address_len += 1 + size;
        } else {
            rest_len += (rest_count ? 1 : 0) + size;
            rest_count++;
        }
    }
    PyObject *address = PyBytes_FromStringAndSize(NULL, address_len);
    if (address == NULL) return NULL;
    PyObject *full = PyBytes_FromStringAndSize(NULL, address_len + 2 + rest_len);
    if (full == NULL) {
        Py_DECREF(address);
        return NULL;
    }
    /* sprintf writes a terminating NUL: PyBytes objects keep one byte past their size for it. */
    char *a = PyBytes_AS_STRING(address);
    a += sprintf(a, "%zd ", peer_len);
    memcpy(a, PyBytes_AS_STRING(peer), (size_t)peer_len);
    a += peer_len;
    char *r = PyBytes_AS_STRING(full) + address_len + 2;
    Py_ssize_t written = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(headers, i);
        PyObject *key = PyTuple_GET_ITEM(item, 0), *value = PyTuple_GET_ITEM(item, 1);
        int k = memo_name(self, (const u8 *)PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key));
        if (k < 0) continue;
        if (k < self->address_count) {
            *a++ = '\n';
            a = memo_item(a, self, k, PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value));
        } else {
            if (written++) *r++ = '\n';
            r = memo_item(r, self, k, PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value));
        }
    }
    char *f = PyBytes_AS_STRING(full);
    memcpy(f, PyBytes_AS_STRING(address), (size_t)address_len);
    f[address_len] = '\n';
    f[address_len + 1] = '\n';
    PyObject *pair = PyTuple_Pack(2, address, full);
    Py_DECREF(address);
    Py_DECREF(full);
    return pair;
}

static PyMethodDef MemoKey_methods[] = {
    {"materials", (PyCFunction)(void (*)(void))MemoKey_materials, METH_FASTCALL,
     "materials(peer, headers) -> (address, full) | None: see cookiegate.gateway.memo_materials."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject MemoKeyType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cookiegate._scan.MemoKey",
    .tp_basicsize = sizeof(MemoKey),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "MemoKey(address_names, deciding_names): the decision memo's key material.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)MemoKey_init,
    .tp_methods = MemoKey_methods,
};

/* ------------------------------------------------------------------------------------------------------
 * VisitBase: the base class of cookiegate.gateway.Visit where this module is built.
 *
 * A visit is made for every request and most are never asked anything. As a plain Python instance it
 * costs an allocation for the object, another for its attribute values (sized for every attribute any
 * visit ever set) and three generic attribute stores. VisitBase holds the three attributes every visit
 * has (`gateway`, `_peer`, `_headers`) as plain fields, and a __dict__ made only when a fact is first
 * remembered (a page, a cookie, an app asking). Attribute access from Python is unchanged: the three are
 * member descriptors, everything else lives in the instance dict or falls back to the class defaults.
 * ---------------------------------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *gateway;
    PyObject *peer;
    PyObject *headers;
    PyObject *dict;
    PyObject *weakreflist;
} VisitBase;

static int VisitBase_traverse(VisitBase *self, visitproc visit, void *arg) {
    Py_VISIT(self->gateway);
    Py_VISIT(self->peer);
    Py_VISIT(self->headers);
    Py_VISIT(self->dict);
    return 0;
}

static int VisitBase_clear(VisitBase *self) {
    Py_CLEAR(self->gateway);
    Py_CLEAR(self->peer);
    Py_CLEAR(self->headers);
    Py_CLEAR(self->dict);
    return 0;
}

static void VisitBase_dealloc(VisitBase *self) {
    /* Also reached from a Python subclass's dealloc (after its own finalizers), which leaves the dict
     * and the weak references to the base that declared them. */
    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL) PyObject_ClearWeakRefs((PyObject *)self);
    VisitBase_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMemberDef VisitBase_members[] = {
    {"gateway", T_OBJECT_EX, offsetof(VisitBase, gateway), 0, "The gateway this visit belongs to."},
    {"_peer", T_OBJECT_EX, offsetof(VisitBase, peer), 0, "The request's ASGI client (peer), as given."},
    {"_headers", T_OBJECT_EX, offsetof(VisitBase, headers), 0, "The request's ASGI headers, as given."},
    {NULL, 0, 0, 0, NULL},
};

/* A __dict__ for the instances of Python subclasses of VisitBase and MiddlewareBase (both declare it). */
static PyGetSetDef instance_dict_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject VisitBaseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cookiegate._scan.VisitBase",
    .tp_basicsize = sizeof(VisitBase),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The fields every cookiegate visit has (gateway, _peer, _headers); the rest in a lazy __dict__.",
    .tp_new = PyType_GenericNew,
    .tp_traverse = (traverseproc)VisitBase_traverse,
    .tp_clear = (inquiry)VisitBase_clear,
    .tp_dealloc = (destructor)VisitBase_dealloc,
    .tp_members = VisitBase_members,
    .tp_getset = instance_dict_getset,
    .tp_dictoffset = offsetof(VisitBase, dict),
    .tp_weaklistoffset = offsetof(VisitBase, weakreflist),
};

/* ------------------------------------------------------------------------------------------------------
 * Entry: the middleware's per-request step in C, for the common request.
 *
 * Entry(visit_class, slow_class, gateway, prefix, prefix_bare, own_path, preview_header)(scope, send) does
 * what cookiegate.middleware.CookieGateMiddleware.__call__ does for an HTTP request that is not for the
 * gateway's own routes and carries no preview header: it makes the visit as visit_class(gateway, scope)
 * would (the object, then its `gateway`, `_peer` and `_headers`: what Visit.__init__ sets when there is no
 * preview; tests compare the two), puts it at scope["cookiegate"], and returns the PassGate the app is to
 * get. It returns None, doing nothing, for a request the Python code must take: a path under the prefix
 * or equal to prefix_bare or own_path, a preview header, or a scope or headers not shaped as ASGI says.
 * ---------------------------------------------------------------------------------------------------- */

#define ENTRY_PATH_MAX 64

typedef struct {
    PyObject_HEAD
    PyObject *visit_class, *slow_class, *gateway, *prefix, *prefix_bare, *own_path, *preview_header;
    /* visit_class is a VisitBase whose three attributes are still VisitBase's fields (no subclass put
     * something else under those names): they are stored directly, not through setattr. */
    int direct;
    vectorcallfunc vectorcall;
    /* The three paths the entry compares every request's path with, copied here when all are ASCII and
     * short (the usual case): the compares then read only this object and the path, and most end at the
     * length check. paths_inline 0: compared through the str objects. */
    int paths_inline;
    Py_ssize_t path_len[3];
    char path_bytes[3][ENTRY_PATH_MAX];
} Entry;

enum { PATH_PREFIX = 0, PATH_PREFIX_BARE = 1, PATH_OWN = 2 };

static PyObject *str_path, *str_client, *str_cookiegate, *str_gateway, *str_peer, *str_headers_attr, *empty_tuple;

/* The entry's work (see above): a new reference to the PassGate, or to None, or NULL with an error set. */
static PyObject *entry_common(Entry *self, PyObject *scope, PyObject *send) {
    if (!PyDict_CheckExact(scope)) Py_RETURN_NONE;
    PyObject *path = PyDict_GetItemWithError(scope, str_path);
    if (path == NULL) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    if (!PyUnicode_CheckExact(path)) Py_RETURN_NONE;
    if (self->paths_inline && PyUnicode_IS_COMPACT_ASCII(path)) {
        const char *p = (const char *)PyUnicode_DATA(path);
        Py_ssize_t len = PyUnicode_GET_LENGTH(path);
        Py_ssize_t n = self->path_len[PATH_PREFIX];
        if (len >= n && memcmp(p, self->path_bytes[PATH_PREFIX], (size_t)n) == 0) Py_RETURN_NONE;
        for (int i = PATH_PREFIX_BARE; i <= PATH_OWN; i++)
            if (len == self->path_len[i] && memcmp(p, self->path_bytes[i], (size_t)len) == 0) Py_RETURN_NONE;
    } else {
        Py_ssize_t under = PyUnicode_Tailmatch(path, self->prefix, 0, PY_SSIZE_T_MAX, -1);
        if (under < 0) return NULL;
        if (under || PyUnicode_Compare(path, self->prefix_bare) == 0
            || PyUnicode_Compare(path, self->own_path) == 0) {
            if (PyErr_Occurred()) return NULL;
            Py_RETURN_NONE;
        }
    }
    PyObject *headers = PyDict_GetItemWithError(scope, str_headers);
    if (headers == NULL) {
        if (PyErr_Occurred()) return NULL;
        headers = empty_tuple; /* scope.get("headers", ()) */
    }
    if (!PyList_CheckExact(headers) && !PyTuple_CheckExact(headers)) Py_RETURN_NONE;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(headers);
    Py_ssize_t preview_len = PyBytes_GET_SIZE(self->preview_header);
    const char *preview = PyBytes_AS_STRING(self->preview_header);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(headers, i);
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 2) Py_RETURN_NONE;
        PyObject *key = PyTuple_GET_ITEM(item, 0);
        if (!PyBytes_CheckExact(key)) Py_RETURN_NONE;
        if (PyBytes_GET_SIZE(key) == preview_len && memcmp(PyBytes_AS_STRING(key), preview, (size_t)preview_len) == 0)
            Py_RETURN_NONE;
    }
    PyObject *client = PyDict_GetItemWithError(scope, str_client);
    if (client == NULL) {
        if (PyErr_Occurred()) return NULL;
        client = Py_None; /* scope.get("client") */
    }
    /* The visit, as Visit(gateway, scope) makes it: the object (object.__new__), then its three attributes.
     * Keep the references: the attribute stores below may run Python code (a custom __setattr__) in theory. */
    Py_INCREF(headers);
    Py_INCREF(client);
    PyTypeObject *visit_type = (PyTypeObject *)self->visit_class;
    PyObject *visit = visit_type->tp_new(visit_type, empty_tuple, NULL);
    PyObject *gate = NULL;
    if (visit == NULL) goto done;
    if (self->direct && Py_TYPE(visit) == visit_type) {
        /* What the member descriptors' setattr would do, without looking them up. */
        VisitBase *v = (VisitBase *)visit;
        Py_INCREF(self->gateway); Py_XSETREF(v->gateway, self->gateway);
        Py_INCREF(client); Py_XSETREF(v->peer, client);
        Py_INCREF(headers); Py_XSETREF(v->headers, headers);
    } else if (PyObject_SetAttr(visit, str_gateway, self->gateway) < 0 || PyObject_SetAttr(visit, str_peer, client) < 0
               || PyObject_SetAttr(visit, str_headers_attr, headers) < 0) {
        goto done;
    }
    if (PyDict_SetItem(scope, str_cookiegate, visit) < 0) goto done;
    gate = make_pass_gate(&PassGateType, self->slow_class, self->gateway, visit, send, scope);
done:
    Py_XDECREF(visit);
    Py_DECREF(client);
    Py_DECREF(headers);
    return gate;
}

static PyObject *Entry_vectorcall(PyObject *self_, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    if (PyVectorcall_NARGS(nargsf) != 2 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0)) {
        PyErr_SetString(PyExc_TypeError, "entry(scope, send)");
        return NULL;
    }
    return entry_common((Entry *)self_, args[0], args[1]);
}

static PyObject *Entry_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    PyObject *visit_class, *slow_class, *gateway, *prefix, *prefix_bare, *own_path, *preview_header;
    if (kwds != NULL && PyDict_GET_SIZE(kwds) != 0) {
        PyErr_SetString(PyExc_TypeError, "Entry() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "O!OOUUUS:Entry", &PyType_Type, &visit_class, &slow_class, &gateway, &prefix,
                          &prefix_bare, &own_path, &preview_header))
        return NULL;
    Entry *self = PyObject_GC_New(Entry, type);
    if (self == NULL) return NULL;
    PyObject *fields[7] = {visit_class, slow_class, gateway, prefix, prefix_bare, own_path, preview_header};
    PyObject **slots[7] = {&self->visit_class, &self->slow_class, &self->gateway, &self->prefix,
                           &self->prefix_bare, &self->own_path, &self->preview_header};
    for (int i = 0; i < 7; i++) {
        Py_INCREF(fields[i]);
        *slots[i] = fields[i];
    }
    self->direct = 0;
    self->vectorcall = Entry_vectorcall;
    self->paths_inline = 1;
    PyObject *paths[3] = {prefix, prefix_bare, own_path};
    for (int i = 0; i < 3; i++) {
        if (!PyUnicode_IS_COMPACT_ASCII(paths[i]) || PyUnicode_GET_LENGTH(paths[i]) > ENTRY_PATH_MAX) {
            self->paths_inline = 0;
            break;
        }
        self->path_len[i] = PyUnicode_GET_LENGTH(paths[i]);
        memcpy(self->path_bytes[i], PyUnicode_DATA(paths[i]), (size_t)self->path_len[i]);
    }
    int direct = PyType_IsSubtype((PyTypeObject *)visit_class, &VisitBaseType);
    PyObject *names[3] = {str_gateway, str_peer, str_headers_attr};
    for (int i = 0; i < 3 && direct; i++) {
        /* The class's attribute under that name must be VisitBase's own member descriptor. */
        PyObject *seen = PyObject_GetAttr(visit_class, names[i]);
        if (seen == NULL) {
            Py_DECREF(self);
            return NULL;
        }
        direct = seen == PyDict_GetItemWithError(VisitBaseType.tp_dict, names[i]);
        Py_DECREF(seen);
    }
    if (PyErr_Occurred()) {
        Py_DECREF(self);
        return NULL;
    }
    self->direct = direct;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

static int Entry_traverse(Entry *self, visitproc visit, void *arg) {
    Py_VISIT(self->visit_class);
    Py_VISIT(self->slow_class);
    Py_VISIT(self->gateway);
    return 0; /* the rest are str and bytes: no cycles through them */
}

static int Entry_clear(Entry *self) {
    Py_CLEAR(self->visit_class);
    Py_CLEAR(self->slow_class);
    Py_CLEAR(self->gateway);
    Py_CLEAR(self->prefix);
    Py_CLEAR(self->prefix_bare);
    Py_CLEAR(self->own_path);
    Py_CLEAR(self->preview_header);
    return 0;
}

static void Entry_dealloc(Entry *self) {
    PyObject_GC_UnTrack(self);
    Entry_clear(self);
    PyObject_GC_Del(self);
}

static PyObject *Entry_get_direct(Entry *self, void *closure) {
    (void)closure;
    return PyBool_FromLong(self->direct);
}

static PyGetSetDef Entry_getset[] = {
    {"direct", (getter)Entry_get_direct, NULL, "Whether visits are made by direct stores into VisitBase.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject EntryType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cookiegate._scan.Entry",
    .tp_basicsize = sizeof(Entry),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "Entry(visit_class, slow_class, gateway, prefix, prefix_bare, own_path, preview_header): "
              "the middleware's per-request step in C.",
    .tp_new = Entry_new,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Entry, vectorcall),
    .tp_traverse = (traverseproc)Entry_traverse,
    .tp_clear = (inquiry)Entry_clear,
    .tp_dealloc = (destructor)Entry_dealloc,
    .tp_getset = Entry_getset,
};

/* ------------------------------------------------------------------------------------------------------
 * MiddlewareBase: the base of cookiegate.middleware.CookieGateMiddleware where this module is built.
 *
 * Calling the middleware (the server's `app(scope, receive, send)`) runs this C call instead of a Python
 * coroutine: for an HTTP request the entry takes (see Entry), it returns what `app(scope, receive, gate)`
 * returns, the app's own awaitable, so the gateway adds no frame of its own to the request. Everything
 * else (the gateway's routes, a preview, lifespan, websockets, an entry of None) goes to the instance's
 * `_call(scope, receive, send)`, the Python coroutine. Measured under load with callgrind, the Python
 * coroutine around the app cost ~1,800 instructions per request of the gate's ~6,000 on a JSON response.
 * `app` and `_entry` are plain fields (the entry: an Entry or None).
 * ---------------------------------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *app;
    PyObject *entry;
    PyObject *dict;
    PyObject *weakreflist;
} MiddlewareBase;

static PyObject *str_http, *str_call;

static PyObject *MiddlewareBase_fallback(PyObject *self, PyObject *args, PyObject *kwds) {
    PyObject *method = PyObject_GetAttr(self, str_call);
    if (method == NULL) return NULL;
    PyObject *result = PyObject_Call(method, args, kwds);
    Py_DECREF(method);
    return result;
}

static PyObject *MiddlewareBase_call(PyObject *self_, PyObject *args, PyObject *kwds) {
    MiddlewareBase *self = (MiddlewareBase *)self_;
    if (self->entry == NULL || Py_TYPE(self->entry) != &EntryType || self->app == NULL || PyTuple_GET_SIZE(args) != 3
        || (kwds != NULL && PyDict_GET_SIZE(kwds) != 0))
        return MiddlewareBase_fallback(self_, args, kwds);
    PyObject *scope = PyTuple_GET_ITEM(args, 0), *receive = PyTuple_GET_ITEM(args, 1);
    PyObject *send = PyTuple_GET_ITEM(args, 2);
    if (!PyDict_CheckExact(scope)) return MiddlewareBase_fallback(self_, args, kwds);
    PyObject *kind = PyDict_GetItemWithError(scope, str_type);
    if (kind == NULL) {
        if (PyErr_Occurred()) return NULL;
        return MiddlewareBase_fallback(self_, args, kwds); /* Python raises its KeyError */
    }
    if (kind != str_http
        && !(PyUnicode_CheckExact(kind) && PyUnicode_GET_LENGTH(kind) == 4 && PyUnicode_IS_COMPACT_ASCII(kind)
             && memcmp(PyUnicode_DATA(kind), "http", 4) == 0))
        return MiddlewareBase_fallback(self_, args, kwds);
    PyObject *gate = entry_common((Entry *)self->entry, scope, send);
    if (gate == NULL) return NULL;
    if (gate == Py_None) {
        Py_DECREF(gate);
        return MiddlewareBase_fallback(self_, args, kwds);
    }
    /* The app's awaitable, returned as is: the server awaits it directly. Hold the app: a call may, in
     * theory, replace self->app. */
    PyObject *app = self->app;
    Py_INCREF(app);
    PyObject *call[4] = {NULL, scope, receive, gate};
    PyObject *result = PyObject_Vectorcall(app, call + 1, 3 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    Py_DECREF(app);
    Py_DECREF(gate);
    return result;
}

static int MiddlewareBase_traverse(MiddlewareBase *self, visitproc visit, void *arg) {
    Py_VISIT(self->app);
    Py_VISIT(self->entry);
    Py_VISIT(self->dict);
    return 0;
}

static int MiddlewareBase_clear(MiddlewareBase *self) {
    Py_CLEAR(self->app);
    Py_CLEAR(self->entry);
    Py_CLEAR(self->dict);
    return 0;
}

static void MiddlewareBase_dealloc(MiddlewareBase *self) {
    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL) PyObject_ClearWeakRefs((PyObject *)self);
    MiddlewareBase_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMemberDef MiddlewareBase_members[] = {
    {"app", T_OBJECT_EX, offsetof(MiddlewareBase, app), 0, "The wrapped ASGI app."},
    {"_entry", T_OBJECT, offsetof(MiddlewareBase, entry), 0, "The per-request step in C (an Entry), or None."},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject MiddlewareBaseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cookiegate._scan.MiddlewareBase",
    .tp_basicsize = sizeof(MiddlewareBase),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The middleware's call in C: the common request straight to the app, the rest to self._call.",
    .tp_new = PyType_GenericNew,
    .tp_call = MiddlewareBase_call,
    .tp_traverse = (traverseproc)MiddlewareBase_traverse,
    .tp_clear = (inquiry)MiddlewareBase_clear,
    .tp_dealloc = (destructor)MiddlewareBase_dealloc,
    .tp_members = MiddlewareBase_members,
    .tp_getset = instance_dict_getset,
    .tp_dictoffset = offsetof(MiddlewareBase, dict),
    .tp_weaklistoffset = offsetof(MiddlewareBase, weakreflist),
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
    if (PyType_Ready(&PassGateType) < 0) return NULL;
    if (PyType_Ready(&MemoKeyType) < 0) return NULL;
    if (PyType_Ready(&EntryType) < 0) return NULL;
    if (PyType_Ready(&VisitBaseType) < 0) return NULL;
    if (PyType_Ready(&MiddlewareBaseType) < 0) return NULL;
    str_http = PyUnicode_InternFromString("http");
    str_call = PyUnicode_InternFromString("_call");
    if (str_http == NULL || str_call == NULL) return NULL;
    str_path = PyUnicode_InternFromString("path");
    str_client = PyUnicode_InternFromString("client");
    str_cookiegate = PyUnicode_InternFromString("cookiegate");
    str_gateway = PyUnicode_InternFromString("gateway");
    str_peer = PyUnicode_InternFromString("_peer");
    str_headers_attr = PyUnicode_InternFromString("_headers");
    empty_tuple = PyTuple_New(0);
    if (str_path == NULL || str_client == NULL || str_cookiegate == NULL || str_gateway == NULL
        || str_peer == NULL || str_headers_attr == NULL || empty_tuple == NULL)
        return NULL;
    str_type = PyUnicode_InternFromString("type");
    str_headers = PyUnicode_InternFromString("headers");
    str_start = PyUnicode_InternFromString("http.response.start");
    str_gate_start = PyUnicode_InternFromString("_gate_start");
    if (str_type == NULL || str_headers == NULL || str_start == NULL || str_gate_start == NULL) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&SkipperType);
    if (PyModule_AddObject(m, "Skipper", (PyObject *)&SkipperType) < 0) {
        Py_DECREF(&SkipperType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&PassGateType);
    if (PyModule_AddObject(m, "PassGate", (PyObject *)&PassGateType) < 0) {
        Py_DECREF(&PassGateType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&MemoKeyType);
    if (PyModule_AddObject(m, "MemoKey", (PyObject *)&MemoKeyType) < 0) {
        Py_DECREF(&MemoKeyType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&EntryType);
    if (PyModule_AddObject(m, "Entry", (PyObject *)&EntryType) < 0) {
        Py_DECREF(&EntryType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&VisitBaseType);
    if (PyModule_AddObject(m, "VisitBase", (PyObject *)&VisitBaseType) < 0) {
        Py_DECREF(&VisitBaseType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&MiddlewareBaseType);
    if (PyModule_AddObject(m, "MiddlewareBase", (PyObject *)&MiddlewareBaseType) < 0) {
        Py_DECREF(&MiddlewareBaseType);
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddIntConstant(m, "API", SCAN_API) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
