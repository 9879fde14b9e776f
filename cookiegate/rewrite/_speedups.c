/* cookiegate.rewrite._speedups: the skip scan of cookiegate/rewrite/_scan.py (its specification) in C: skip() and
 * has_explicit_markup() return what the functions of the same names there return, for every input (held to it by
 * tests/test_native_scan.py and fuzz/). Pure functions over bytes; each function mirrors one part of the pattern
 * SKIP (named in its comment), reads only b[0..n) and returns a position in [0, n], or -1: "does not match". */
#ifdef COOKIEGATE_SCAN_ONLY /* the scan alone, without Python (fuzz/scan_fuzzer.c) */
#include <stddef.h>
typedef ptrdiff_t Py_ssize_t;
#else
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#endif
#include <string.h>

/* Bumped whenever what the module offers changes: the Python side refuses a build with another number. */
#define SCAN_API 11
#define MAX_NAMES 96
#define MAX_NAME_LEN 32

typedef unsigned char u8;

/* The name tables, as _scan.NAME_TABLES has them (the loader refuses a build whose NAMES differ). */
static const char *const SPECIAL_NAMES[] = {
    "a", "area", "body", "head", "html", "iframe", "math", "meta", "noembed", "noframes", "noscript", "plaintext",
    "script", "style", "svg", "textarea", "title", "xmp", NULL,
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

/* Inside an SVG or MathML subtree: start tags and end tags that stop the scan (_scan.FOREIGN_STOPS, ...). */
static const char *const FOREIGN_STOPS[] = {
    "a", "annotation-xml", "area", "b", "big", "blockquote", "body", "br", "center", "code", "dd", "desc", "div",
    "dl", "dt", "em", "embed", "font", "foreignobject", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "html",
    "i", "iframe", "img", "li", "listing", "malignmark", "math", "menu", "meta", "mglyph", "mi", "mn", "mo", "ms",
    "mtext", "nobr", "noembed", "noframes", "noscript", "ol", "p", "plaintext", "pre", "ruby", "s", "script",
    "small", "span", "strike", "strong", "style", "sub", "sup", "svg", "table", "textarea", "title", "tt", "u",
    "ul", "var", "xmp", NULL,
};
static const char *const FOREIGN_END_STOPS[] = {
    "annotation-xml", "br", "desc", "foreignobject", "malignmark", "math", "mglyph", "mi", "mn", "mo", "ms",
    "mtext", "p", "svg", "title", NULL,
};

typedef struct {
    int count;
    Py_ssize_t len[MAX_NAMES];
    u8 name[MAX_NAMES][MAX_NAME_LEN]; /* lowercased */
    /* The names by their last byte ("title", "type", "style" end like interesting ones): compared from the end. */
    u8 bucket_len[256];
    u8 bucket[256][MAX_NAMES];
} NameSet;

/* The module's state: the name tables, built once by the module's exec slot. */
typedef struct {
    NameSet specials;      /* "<" + tag names the scan never consumes */
    NameSet interesting;   /* attribute names that end it on most elements ("style" included) */
    NameSet a_interesting; /* ... and on <a> / <area>, where href only navigates */
    NameSet foreign_stops; /* "<" + tag names a subtree's scan stops at */
    NameSet foreign_end_stops; /* end tag names it stops at */
} ScanState;

/* Byte classes of the pattern: \t\n\f\r and space, /, >, <, =, " and ', ASCII letters, and ( & \ (what a safe
 * style value may not hold). */
enum { C_WS = 1, C_SLASH = 2, C_GT = 4, C_LT = 8, C_EQ = 16, C_QUOTE = 32, C_ALPHA = 64, C_STYLE = 128 };
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

/* b[k..k+len) spells `word` (lower-case) in any case. */
static int spells(const u8 *b, Py_ssize_t k, const char *word, Py_ssize_t len) {
    Py_ssize_t j = 0;
    while (j < len && lower(b[k + j]) == (u8)word[j]) j++;
    return j == len;
}

/* The bytes just before `end` spell one of the names, in any case: the pattern's negative lookbehinds (which
 * may look past the start of the current name, as these comparisons do). With `start` >= 0: b[start..end) is. */
static int ends_in(const NameSet *set, const u8 *b, Py_ssize_t end, Py_ssize_t start) {
    if (end <= 0) return 0;
    u8 last = lower(b[end - 1]);
    for (int j = 0; j < set->bucket_len[last]; j++) {
        int k = set->bucket[last][j];
        Py_ssize_t len = set->len[k];
        if (len > end || (start >= 0 && len != end - start)) continue;
        const u8 *name = set->name[k];
        Py_ssize_t i = len - 2; /* the last byte matched already */
        while (i >= 0 && lower(b[end - len + i]) == name[i]) i--;
        if (i < 0) return 1;
    }
    return 0;
}

static int ends_with_style(const u8 *b, Py_ssize_t end) { return end >= 5 && spells(b, end - 5, "style", 5); }

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
    if (!ends_in(interesting, b, i, -1)) {
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
        j = i + 5; /* after "<area" */
        if (!(j < n && spells(b, i + 2, "rea", 3) && (cls[b[j]] & (C_WS | C_SLASH | C_GT)))) return -1;
    }
    return boring_rest(b, j, n, &s->a_interesting);
}

/* <[A-Za-z][^\t\n\f\r /><]*+ (not one of `stops`) (?:_boring_attr)*+[\t\n\f\r /]*+>  (b[i] == '<') */
static Py_ssize_t start_tag(const ScanState *s, const NameSet *stops, const u8 *b, Py_ssize_t i, Py_ssize_t n) {
    i += 2;
    while (i < n && !(cls[b[i]] & (C_WS | C_SLASH | C_GT | C_LT))) i++;
    if (ends_in(stops, b, i, -1)) return -1;
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

/* _SUBTREE: <svg or <math, boring attributes, ">" not after "/", foreign items (_FOREIGN_ITEM), its end tag.
 * (b[i] == '<'; `len` is the root's name length, 3 or 4) */
static Py_ssize_t subtree(const ScanState *s, const u8 *b, Py_ssize_t i, Py_ssize_t n, Py_ssize_t len) {
    Py_ssize_t j = i + 1 + len;
    if (j >= n || !(cls[b[j]] & (C_WS | C_SLASH | C_GT))) return -1;
    Py_ssize_t k = boring_rest(b, j, n, &s->interesting);
    if (k < 0 || b[k - 2] == '/') return -1;
    for (;;) {
        if (k >= n) return -1;
        if (b[k] != '<') {
            const u8 *lt = memchr(b + k, '<', (size_t)(n - k));
            if (lt == NULL) return -1;
            k = lt - b;
            continue;
        }
        if (k + 1 >= n) return -1;
        u8 c = b[k + 1];
        Py_ssize_t r = -1;
        if (c == '/') {
            Py_ssize_t e = k + 2 + len, m = 0;
            while (m < len && k + 2 + m < n && lower(b[k + 2 + m]) == lower(b[i + 1 + m])) m++;
            if (m == len && e < n && (cls[b[e]] & (C_WS | C_SLASH | C_GT))) { /* the root's own end tag */
                e = skip_sep(b, e, n);
                return (e < n && b[e] == '>') ? e + 1 : -1;
            }
            if (k + 2 < n && (cls[b[k + 2]] & C_ALPHA)) {
                Py_ssize_t name_end = k + 3;
                while (name_end < n && !(cls[b[name_end]] & (C_WS | C_SLASH | C_GT | C_LT))) name_end++;
                if (name_end < n && !(cls[b[name_end]] & C_LT) && ends_in(&s->foreign_end_stops, b, name_end, k + 2))
                    return -1;
            }
            r = end_tag(b, k, n);
        } else if (cls[c] & C_ALPHA) {
            r = start_tag(s, &s->foreign_stops, b, k, n);
        } else if (c == '!') {
            if (k + 3 < n && b[k + 2] == '-' && b[k + 3] == '-') r = comment(b, k, n);
        } else if (c != '?') {
            r = k + 1;
        }
        if (r < 0) return -1;
        k = r;
    }
}

/* The whole _SKIP pattern: (?: text | end tag | <a> | subtree | start tag | lone "<" | comment )*+ */
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
            else if (i + 4 < n && spells(b, i + 1, "svg", 3)) r = subtree(s, b, i, n, 3);
            else if (i + 5 < n && spells(b, i + 1, "math", 4)) r = subtree(s, b, i, n, 4);
            if (r < 0) r = start_tag(s, &s->specials, b, i, n);
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
    Py_ssize_t i = 4;
    while (i < n) {
        /* "-" is rarer than any letter of the names: memchr finds it, the rest is compared around it */
        const u8 *dash = memchr(b + i, '-', (size_t)(n - i));
        if (dash == NULL) break;
        Py_ssize_t k = dash - b;
        i = k + 1;
        if (k < 4 || !spells(b, k - 4, "data", 4)) continue;
        if ((k + 11 <= n && spells(b, k + 1, "cookiegate", 10)) || (k + 9 <= n && spells(b, k + 1, "category", 8)))
            return 1;
    }
    return 0;
}

#ifndef COOKIEGATE_SCAN_ONLY

static PyObject *type_error(const char *message) {
    PyErr_SetString(PyExc_TypeError, message);
    return NULL;
}

/* skip(buf: bytes, pos: int, plain: Container[bytes] | None) -> int (what is not a container raises TypeError
 * at its first lookup, as `in` does) */
static PyObject *skip(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) return type_error("skip(buf, pos, plain) takes 3 arguments");
    PyObject *buf = args[0], *plain = args[2];
    if (!PyBytes_Check(buf)) return type_error("buf must be bytes");
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
    if (!PyBytes_Check(data)) return type_error("data must be bytes");
    if (explicit_markup((const u8 *)PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))) Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

/* One name table as a tuple of bytes, for the loader's check against the specification's. */
static PyObject *names_tuple(const char *const *names) {
    PyObject *list = PyList_New(0);
    for (Py_ssize_t k = 0; list != NULL && names[k] != NULL; k++) {
        PyObject *item = PyBytes_FromString(names[k]);
        if (item == NULL || PyList_Append(list, item) < 0) Py_CLEAR(list);
        Py_XDECREF(item);
    }
    if (list == NULL) return NULL;
    PyObject *tuple = PyList_AsTuple(list);
    Py_DECREF(list);
    return tuple;
}

static int exec_module(PyObject *module) {
    ScanState *s = PyModule_GetState(module);
    load_names(&s->specials, SPECIAL_NAMES, "<");
    load_names(&s->interesting, INTERESTING_ATTRS, "");
    load_names(&s->a_interesting, A_INTERESTING_ATTRS, "");
    load_names(&s->foreign_stops, FOREIGN_STOPS, "<");
    load_names(&s->foreign_end_stops, FOREIGN_END_STOPS, "");
    if (PyModule_AddIntConstant(module, "API", SCAN_API) < 0) return -1;
    PyObject *names = Py_BuildValue("(NNNNN)", names_tuple(SPECIAL_NAMES), names_tuple(INTERESTING_ATTRS),
                                    names_tuple(A_INTERESTING_ATTRS), names_tuple(FOREIGN_STOPS),
                                    names_tuple(FOREIGN_END_STOPS));
    int added = names == NULL ? -1 : PyModule_AddObjectRef(module, "NAMES", names);
    Py_XDECREF(names);
    return added;
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
