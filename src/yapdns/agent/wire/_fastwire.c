/*
 * The wire sensors' hot path in C. Each function does the same steps, in the same order, with the same results
 * as the Python code it replaces, which stays the reference (tests run both on the same input) and runs where
 * this file could not be built.
 *
 * What crosses between Python and C has named fields, declared once on each side: boundary.h here,
 * boundary.py there (which binds a helper only when both sides declare the same fields).
 *
 * scan(state, data, meta) is batchloop.process_batch_python. It walks one libpcap batch (pcapy-ng's
 * next_batch: packet bytes and PacketRecords) with what it reads from `state` (batchloop.ScanState).
 * Ethernet + IPv4 (IHL 5, not fragmented) or IPv6 (no extension header) + UDP packets on a DNS port are read
 * here: a query goes into the query table, a response that matches one is looked up among the known layouts
 * and variants (answers) and its RRsets folded. Everything else calls back into Python in place, so that the
 * order of events is the capture's: `general` for any other packet, `respond` for a matched response not seen
 * before (with layouts: AnswerLayouts.learn, given the walk and variant key made here; without: the
 * processor's response), `query` when the query table is full. The batch's counts are set on `state`.
 *
 * decode() is message.decode_response for the common case (simple names; A, AAAA, name-only and MX rdata), with
 * names and rdata canonical by construction (DnsResponse.canonical: True), and None for anything else, which
 * the Python decoder then takes.
 *
 * walk() is layout.walk (the reference) in C: where a response's TTLs are, or None when its decoding may
 * not be reused.
 *
 * fold() is answers.fold_rrsets for one response whose TTLs are read at its layout's offsets.
 *
 * Every read is checked against the packet's captured length and the IP and UDP lengths; a layout is only
 * used when it fits the message. Objects read from the dicts are borrowed only while no Python code can run.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "boundary.h"

#define PORT_BITMAP_SIZE 8192 /* one bit per UDP port */
#define OPCODE_TC 0x7A00      /* opcode not a standard query, or TC: the general path decides */
#define TTL_MAX 0x7FFFFFFFu   /* a TTL with the top bit set counts as 0 (RFC 2181 section 8) */

static inline unsigned be16(const unsigned char *p) { return ((unsigned)p[0] << 8) | p[1]; }

static inline uint32_t be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline int port_set(const unsigned char *bitmap, unsigned port) { return bitmap[port >> 3] & (1u << (port & 7)); }

/* A tuple of `size` items, given by a shape's enum constants (boundary.h), whose new references it steals:
 * NULL (exception set) when one of them is NULL or the tuple cannot be made; the references are released then. */
static PyObject *tuple_from(Py_ssize_t size, PyObject *const *items)
{
    PyObject *tuple = PyTuple_New(size);
    int failed = tuple == NULL;
    for (Py_ssize_t i = 0; i < size; i++) {
        if (items[i] == NULL)
            failed = 1;
        else if (tuple != NULL)
            PyTuple_SET_ITEM(tuple, i, items[i]);
        else
            Py_DECREF(items[i]);
    }
    if (failed && tuple != NULL)
        Py_CLEAR(tuple); /* the items set are released with it; a NULL slot is skipped */
    return tuple;
}

/* The query-table key (session.query_key): address length, client address, server address, client port,
 * server port, DNS id, the question with ASCII letters lowercased. */
static PyObject *query_key(const unsigned char *client, const unsigned char *server, int alen, unsigned cport,
                           unsigned sport, unsigned txid, const unsigned char *question, Py_ssize_t qlen)
{
    PyObject *key = PyBytes_FromStringAndSize(NULL, 1 + 2 * alen + 6 + qlen);
    if (key == NULL)
        return NULL;
    unsigned char *k = (unsigned char *)PyBytes_AS_STRING(key);
    *k++ = (unsigned char)alen;
    memcpy(k, client, alen);
    k += alen;
    memcpy(k, server, alen);
    k += alen;
    *k++ = (unsigned char)(cport >> 8);
    *k++ = (unsigned char)cport;
    *k++ = (unsigned char)(sport >> 8);
    *k++ = (unsigned char)sport;
    *k++ = (unsigned char)(txid >> 8);
    *k++ = (unsigned char)txid;
    for (Py_ssize_t i = 0; i < qlen; i++) {
        unsigned char c = question[i];
        k[i] = (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
    }
    return key;
}

/* An answers.Fold's two dicts, by template id: FoldNumbers (a bytearray) in `numbers`, the template in
 * `templates`. New references, read by read_fold and released by release_fold. */
typedef struct {
    PyObject *numbers, *templates;
} Fold;

static PyObject *fold_names[FOLD_SIZE]; /* interned at import: FOLD_FIELDS */

static int read_fold(PyObject *obj, Fold *fold)
{
    fold->numbers = PyObject_GetAttr(obj, fold_names[FOLD_numbers]);
    fold->templates = fold->numbers ? PyObject_GetAttr(obj, fold_names[FOLD_templates]) : NULL;
    if (fold->templates != NULL && PyDict_Check(fold->numbers) && PyDict_Check(fold->templates))
        return 0;
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_TypeError, "Fold.numbers and Fold.templates are dicts");
    return -1;
}

static void release_fold(Fold *fold)
{
    Py_CLEAR(fold->numbers);
    Py_CLEAR(fold->templates);
}

/* answers.fold_rrsets for one response: entries are tuples of ENTRY_FIELDS; answer TTLs are read at
 * `answer_ttls` (offsets from the message start, each checked against `size`). An RRset's TTL is the smallest
 * of its RRs', each with the top bit set counting as 0. */
static int fold_rrsets(const Fold *fold, PyObject *entries, PyObject *answer_ttls, const unsigned char *msg,
                       Py_ssize_t size, long long sec)
{
    Py_ssize_t n_ttls = PyTuple_GET_SIZE(answer_ttls);
    for (Py_ssize_t e = 0; e < PyTuple_GET_SIZE(entries); e++) {
        PyObject *entry = PyTuple_GET_ITEM(entries, e);
        if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != ENTRY_SIZE ||
            !PyTuple_Check(PyTuple_GET_ITEM(entry, ENTRY_indices))) {
            PyErr_SetString(PyExc_TypeError, "a fold entry is a tuple of ENTRY_FIELDS");
            return -1;
        }
        PyObject *tid = PyTuple_GET_ITEM(entry, ENTRY_template_id), *indices = PyTuple_GET_ITEM(entry, ENTRY_indices);
        Py_ssize_t n_idx = PyTuple_GET_SIZE(indices);
        int64_t ttl = n_idx ? INT64_MAX : -1;
        for (Py_ssize_t i = 0; i < n_idx; i++) {
            Py_ssize_t index = PyLong_AsSsize_t(PyTuple_GET_ITEM(indices, i));
            if (index < 0 || index >= n_ttls) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_IndexError, "an RR index beyond the layout's answer TTLs");
                return -1;
            }
            Py_ssize_t at = PyLong_AsSsize_t(PyTuple_GET_ITEM(answer_ttls, index));
            if (at < 0 || at > size - 4) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_IndexError, "a TTL offset beyond the message");
                return -1;
            }
            uint32_t value = be32(msg + at);
            if (value > TTL_MAX)
                value = 0;
            if (value < ttl)
                ttl = value;
        }
        PyObject *raw = PyDict_GetItemWithError(fold->numbers, tid);
        if (raw == NULL) {
            if (PyErr_Occurred())
                return -1;
            FoldNumbers fresh = {.first = sec, .last = sec, .count = 1, .ttl_min = ttl, .ttl_max = ttl};
            raw = PyByteArray_FromStringAndSize((const char *)&fresh, sizeof fresh);
            if (raw == NULL)
                return -1;
            int failed = PyDict_SetItem(fold->numbers, tid, raw) ||
                         PyDict_SetItem(fold->templates, tid, PyTuple_GET_ITEM(entry, ENTRY_template));
            Py_DECREF(raw);
            if (failed)
                return -1;
            continue;
        }
        if (!PyByteArray_CheckExact(raw) || PyByteArray_GET_SIZE(raw) != sizeof(FoldNumbers)) {
            PyErr_SetString(PyExc_TypeError, "folded numbers are a bytearray of FOLD_NUMBERS_FIELDS (int64)");
            return -1;
        }
        FoldNumbers v;
        memcpy(&v, PyByteArray_AS_STRING(raw), sizeof v);
        if (ttl < v.ttl_min)
            v.ttl_min = ttl;
        else if (ttl > v.ttl_max)
            v.ttl_max = ttl;
        v.count += 1;
        if (sec > v.last)
            v.last = sec;
        else if (sec < v.first)
            v.first = sec;
        memcpy(PyByteArray_AS_STRING(raw), &v, sizeof v);
    }
    return 0;
}

/* A matched response through a known layout and variant: 1 folded, 0 not known, -1 error.
 * `msg` is the message, `qend` the end of its question, `size` its length (all from the message start). */
static int fold_known(PyObject *layouts, const Fold *fold, const unsigned char *msg, Py_ssize_t qend,
                      Py_ssize_t size, long long sec)
{
    PyObject *lkey = PyBytes_FromStringAndSize((const char *)msg + 2, qend - 2);
    if (lkey == NULL)
        return -1;
    PyObject *layout = PyDict_GetItemWithError(layouts, lkey);
    Py_DECREF(lkey);
    if (layout == NULL)
        return PyErr_Occurred() ? -1 : 0;
    if (!PyTuple_Check(layout) || PyTuple_GET_SIZE(layout) != LAYOUT_SIZE ||
        !PyTuple_Check(PyTuple_GET_ITEM(layout, LAYOUT_offsets)) ||
        !PyTuple_Check(PyTuple_GET_ITEM(layout, LAYOUT_answer_ttls)) ||
        !PyDict_Check(PyTuple_GET_ITEM(layout, LAYOUT_variants))) {
        PyErr_SetString(PyExc_TypeError, "a layout is a tuple of LAYOUT_FIELDS (answers.Layout)");
        return -1;
    }
    Py_ssize_t end = PyLong_AsSsize_t(PyTuple_GET_ITEM(layout, LAYOUT_end));
    if (end == -1 && PyErr_Occurred())
        return -1;
    if (end > size || end < qend)
        return 0;
    PyObject *offsets = PyTuple_GET_ITEM(layout, LAYOUT_offsets);
    PyObject *vkey = PyBytes_FromStringAndSize((const char *)msg + qend, end - qend);
    if (vkey == NULL)
        return -1;
    unsigned char *v = (unsigned char *)PyBytes_AS_STRING(vkey);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(offsets); i++) {
        Py_ssize_t at = PyLong_AsSsize_t(PyTuple_GET_ITEM(offsets, i)) - qend;
        if (at < 0 || at > end - qend - 4) {
            Py_DECREF(vkey);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_IndexError, "a TTL offset outside the layout");
            return -1;
        }
        memset(v + at, 0, 4);
    }
    PyObject *entries = PyDict_GetItemWithError(PyTuple_GET_ITEM(layout, LAYOUT_variants), vkey);
    Py_DECREF(vkey);
    if (entries == NULL)
        return PyErr_Occurred() ? -1 : 0;
    if (!PyTuple_Check(entries)) {
        PyErr_SetString(PyExc_TypeError, "a variant's entries are a tuple");
        return -1;
    }
    return fold_rrsets(fold, entries, PyTuple_GET_ITEM(layout, LAYOUT_answer_ttls), msg, end, sec) ? -1 : 1;
}

/* Set `*found` to whether `key` was pending (and remove it); -1 on error. */
static int pop_query(PyObject *queries, PyObject *key, int *found)
{
    PyObject *when = PyDict_GetItemWithError(queries, key);
    *found = when != NULL;
    if (when == NULL)
        return PyErr_Occurred() ? -1 : 0;
    return PyDict_DelItem(queries, key);
}

static PyObject *walk_result(const unsigned char *msg, Py_ssize_t n, int with_variant);

static PyObject *scan_input_names[SCAN_INPUT_SIZE], *scan_count_names[SCAN_COUNT_SIZE]; /* interned at import */

/* One scan() call: what it read from its batchloop.ScanState (`held`: new references, by SCAN_INPUT_FIELDS;
 * the other objects are borrowed from them) and the batch's counts (SCAN_COUNT_FIELDS). */
typedef struct {
    PyObject *held[SCAN_INPUT_SIZE];
    PyObject *queries, *layouts, *general, *respond, *query;
    Fold fold;
    const unsigned char *ports;
    Py_ssize_t max_queries;
    int linktype, keep;
    Py_ssize_t packets, other_ports, unsolicited;
} Scan;

/* Read the ScanState `state` into `s`, checking every type; -1 (an exception set) when it does not fit. */
static int read_scan_state(PyObject *state, Scan *s)
{
    PyObject **in = s->held;
    for (int i = 0; i < SCAN_INPUT_SIZE; i++)
        if ((in[i] = PyObject_GetAttr(state, scan_input_names[i])) == NULL)
            return -1;
    long linktype = PyLong_AsLong(in[SCAN_linktype]);
    s->max_queries = PyLong_AsSsize_t(in[SCAN_max_pending_queries]);
    s->keep = PyObject_IsTrue(in[SCAN_keep_unsolicited]);
    if (PyErr_Occurred() || s->keep < 0)
        return -1;
    s->linktype = (int)linktype;
    s->layouts = in[SCAN_layouts];
    if (!PyBytes_Check(in[SCAN_port_bitmap]) || PyBytes_GET_SIZE(in[SCAN_port_bitmap]) != PORT_BITMAP_SIZE ||
        !PyDict_Check(in[SCAN_queries]) || (s->layouts != Py_None && !PyDict_Check(s->layouts)) ||
        !PyCallable_Check(in[SCAN_general]) || !PyCallable_Check(in[SCAN_respond]) ||
        !PyCallable_Check(in[SCAN_query]) || linktype != s->linktype) {
        PyErr_SetString(PyExc_TypeError, "ScanState: port_bitmap is 8192 bytes, queries a dict, layouts a dict or "
                                         "None, general, respond and query callables");
        return -1;
    }
    s->ports = (const unsigned char *)PyBytes_AS_STRING(in[SCAN_port_bitmap]);
    s->queries = in[SCAN_queries];
    s->general = in[SCAN_general];
    s->respond = in[SCAN_respond];
    s->query = in[SCAN_query];
    return read_fold(in[SCAN_fold], &s->fold);
}

/* Set the batch's counts on the ScanState `state`; -1 on error. */
static int set_counts(PyObject *state, const Scan *s)
{
    const Py_ssize_t counts[SCAN_COUNT_SIZE] = {
        [COUNT_packets] = s->packets, [COUNT_other_ports] = s->other_ports, [COUNT_unsolicited] = s->unsolicited};
    for (int i = 0; i < SCAN_COUNT_SIZE; i++) {
        PyObject *value = PyLong_FromSsize_t(counts[i]);
        int failed = value == NULL || PyObject_SetAttr(state, scan_count_names[i], value) < 0;
        Py_XDECREF(value);
        if (failed)
            return -1;
    }
    return 0;
}

static void release_scan(Scan *s)
{
    for (int i = 0; i < SCAN_INPUT_SIZE; i++)
        Py_CLEAR(s->held[i]);
    release_fold(&s->fold);
}

static int call_general(Scan *s, double ts, const unsigned char *packet, Py_ssize_t caplen)
{
    PyObject *r = PyObject_CallFunction(s->general, "idy#", s->linktype, ts, (const char *)packet, caplen);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

/* One UDP DNS message between `src` and `dst`: 0, 1 (the general path must take the packet) or -1 on error. */
static int message(Scan *s, const unsigned char *msg, Py_ssize_t size, const unsigned char *src,
                   const unsigned char *dst, int alen, unsigned sport, unsigned dport, unsigned sec, double ts)
{
    unsigned txid = be16(msg), flags = be16(msg + 2), qdcount = be16(msg + 4);
    const unsigned char *root = size > 12 ? memchr(msg + 12, 0, size - 12) : NULL;
    Py_ssize_t qend = root ? root - msg + 5 : 0;
    if (root == NULL || qend > size || qdcount != 1 || (flags & OPCODE_TC))
        return 1;
    PyObject *key;
    if (!(flags & 0x8000)) {
        key = query_key(src, dst, alen, sport, dport, txid, msg + 12, qend - 12);
        if (key == NULL)
            return -1;
        PyObject *when = PyFloat_FromDouble(ts);
        int failed = when == NULL;
        if (!failed && PyDict_GET_SIZE(s->queries) < s->max_queries) {
            int found;
            failed = pop_query(s->queries, key, &found) || PyDict_SetItem(s->queries, key, when);
        }
        else if (!failed) {
            PyObject *r = PyObject_CallFunctionObjArgs(s->query, key, when, NULL);
            failed = r == NULL;
            Py_XDECREF(r);
        }
        Py_XDECREF(when);
        Py_DECREF(key);
        return failed ? -1 : 0;
    }
    key = query_key(dst, src, alen, dport, sport, txid, msg + 12, qend - 12);
    if (key == NULL)
        return -1;
    int found, failed = pop_query(s->queries, key, &found);
    Py_DECREF(key);
    if (failed)
        return -1;
    if (!found) {
        s->unsolicited++;
        if (!s->keep)
            return 0;
    }
    PyObject *r;
    if (s->layouts != Py_None) {
        int known = fold_known(s->layouts, &s->fold, msg, qend, size, sec);
        if (known)
            return known < 0 ? -1 : 0;
        /* not seen before: walked here, decoded by AnswerLayouts.learn(message, sec, walk and variant key) */
        PyObject *walked = walk_result(msg, size, 1);
        if (walked == NULL)
            return -1;
        r = PyObject_CallFunction(s->respond, "y#IN", (const char *)msg, size, sec, walked);
    }
    else
        r = PyObject_CallFunction(s->respond, "y#y#d", (const char *)src, (Py_ssize_t)alen, (const char *)msg, size,
                                  ts);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

/* A UDP datagram the fast path takes: counted, then its DNS message if a port is a DNS port. */
static int datagram(Scan *s, const unsigned char *msg, Py_ssize_t size, const unsigned char *src,
                    const unsigned char *dst, int alen, unsigned sport, unsigned dport, unsigned sec, double ts)
{
    s->packets++;
    if (!port_set(s->ports, sport) && !port_set(s->ports, dport)) {
        s->other_ports++;
        return 0;
    }
    int r = message(s, msg, size, src, dst, alen, sport, dport, sec, ts);
    s->packets -= r == 1; /* the general path counts it */
    return r;
}

/* One packet: 0 done, 1 for the general path, -1 on error. */
static int packet(Scan *s, const unsigned char *p, Py_ssize_t caplen, unsigned sec, double ts)
{
    int kind = caplen >= 59 ? p[12] : 0;
    if (kind == 0x08) {
        unsigned iplen = be16(p + 16), ulen = be16(p + 38);
        if (be16(p + 12) != 0x0800 || p[14] != 0x45 || (be16(p + 20) & 0x3FFF) || p[23] != 17 ||
            (Py_ssize_t)iplen + 14 > caplen || (long)ulen != (long)iplen - 20)
            return 1;
        return datagram(s, p + 42, (Py_ssize_t)iplen - 28, p + 26, p + 30, 4, be16(p + 34), be16(p + 36), sec, ts);
    }
    if (kind == 0x86 && caplen >= 79) {
        unsigned iplen = be16(p + 18);
        if (be16(p + 12) != 0x86DD || p[20] != 17 || (Py_ssize_t)iplen + 54 > caplen || be16(p + 58) != iplen ||
            !iplen)
            return 1;
        return datagram(s, p + 62, (Py_ssize_t)iplen - 8, p + 22, p + 38, 16, be16(p + 54), be16(p + 56), sec, ts);
    }
    return 1;
}

static PyObject *scan(PyObject *self, PyObject *args)
{
    PyObject *state;
    Py_buffer data, meta;
    Scan s = {0};
    if (!PyArg_ParseTuple(args, "Oy*y*:scan", &state, &data, &meta))
        return NULL;
    PyObject *result = NULL;
    if (read_scan_state(state, &s) < 0)
        goto done;
    const unsigned char *buf = data.buf;
    for (Py_ssize_t at = 0; at + (Py_ssize_t)sizeof(PacketRecord) <= meta.len; at += sizeof(PacketRecord)) {
        PacketRecord rec;
        memcpy(&rec, (const char *)meta.buf + at, sizeof rec);
        Py_ssize_t off = rec.offset < (uint32_t)data.len ? (Py_ssize_t)rec.offset : data.len;
        Py_ssize_t caplen = rec.caplen < (uint32_t)(data.len - off) ? (Py_ssize_t)rec.caplen : data.len - off;
        double ts = (double)rec.sec + (double)rec.usec / 1e6;
        int r = packet(&s, buf + off, caplen, rec.sec, ts);
        if (r == 1)
            r = call_general(&s, ts, buf + off, caplen);
        if (r < 0)
            goto done;
    }
    if (set_counts(state, &s) == 0)
        result = Py_NewRef(Py_None);
done:
    release_scan(&s);
    PyBuffer_Release(&data);
    PyBuffer_Release(&meta);
    return result;
}


/* ---- layout.walk in C (layout.py has the reference and the reasons) ---- */

typedef struct {
    Py_ssize_t *at;
    Py_ssize_t len, cap;
} Offsets;

static int offsets_add(Offsets *o, Py_ssize_t value)
{
    if (o->len == o->cap) {
        Py_ssize_t cap = o->cap ? 2 * o->cap : 16;
        Py_ssize_t *grown = PyMem_Realloc(o->at, cap * sizeof *grown);
        if (grown == NULL)
            return -1;
        o->at = grown;
        o->cap = cap;
    }
    o->at[o->len++] = value;
    return 0;
}

static int overlaps(Py_ssize_t start, Py_ssize_t stop, const Offsets *ttls)
{
    for (Py_ssize_t i = 0; i < ttls->len; i++)
        if (ttls->at[i] < stop && start < ttls->at[i] + 4)
            return 1;
    return 0;
}

/* layout._name: the offset after the name at `off`, or -1 (malformed, or a pointer reaches the header or a
 * TTL). */
static Py_ssize_t walk_name(const unsigned char *buf, Py_ssize_t n, Py_ssize_t off, const Offsets *ttls)
{
    Py_ssize_t end = -1, limit = off, size = 0;
    while (off < n) {
        unsigned length = buf[off];
        if (length == 0)
            return end < 0 ? off + 1 : end;
        Py_ssize_t nxt;
        if (length < 64) {
            nxt = off + 1 + length;
            size += length + 1;
        }
        else
            nxt = off + 2;
        if (nxt > n || size > 254 || (length >= 64 && length < 0xC0) || (end >= 0 && overlaps(off, nxt, ttls)))
            return -1;
        if (length < 64) {
            off = nxt;
            continue;
        }
        Py_ssize_t ptr = ((Py_ssize_t)(length & 0x3F) << 8) | buf[off + 1];
        if (ptr < 12 || ptr >= limit)
            return -1;
        if (end < 0)
            end = nxt;
        limit = off = ptr;
    }
    return -1;
}

/* layout._OPAQUE: rdata types without any domain name. */
static int opaque_type(unsigned rrtype)
{
    static const unsigned types[] = {1, 28, 13, 16, 29, 44, 43, 48, 50, 51, 52, 53, 59, 60, 61, 63, 99, 108, 109, 256, 257};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (types[i] == rrtype)
            return 1;
    return 0;
}

/* layout._rdata_names_ok */
static int rdata_names_ok(const unsigned char *msg, Py_ssize_t n, unsigned rrtype, Py_ssize_t start, Py_ssize_t end,
                          const Offsets *ttls)
{
    switch (rrtype) {
    case 5: case 2: case 12: case 39: /* CNAME, NS, PTR, DNAME */
        return start < end && walk_name(msg, n, start, ttls) > 0;
    case 15: /* MX */
        return start + 2 < end && walk_name(msg, n, start + 2, ttls) > 0;
    case 33: /* SRV */
        return start + 6 < end && walk_name(msg, n, start + 6, ttls) > 0;
    case 6: { /* SOA */
        Py_ssize_t after = start < end ? walk_name(msg, n, start, ttls) : -1;
        return after > 0 && walk_name(msg, n, after, ttls) > 0;
    }
    default:
        return opaque_type(rrtype);
    }
}

static PyObject *offsets_tuple(const Offsets *o)
{
    PyObject *t = PyTuple_New(o->len);
    for (Py_ssize_t i = 0; t != NULL && i < o->len; i++) {
        PyObject *v = PyLong_FromSsize_t(o->at[i]);
        if (v == NULL) {
            Py_CLEAR(t);
            break;
        }
        PyTuple_SET_ITEM(t, i, v);
    }
    return t;
}

/* 1 with *qend_out and *end_out set, 0 when the message cannot be cached, -1 on error. */
static int walk_message(const unsigned char *msg, Py_ssize_t n, Offsets *ttls, Offsets *answer_ttls,
                        Py_ssize_t *qend_out, Py_ssize_t *end_out)
{
    if (n < 17)
        return 0;
    unsigned ancount = be16(msg + 6), nscount = be16(msg + 8);
    const unsigned char *root = memchr(msg + 12, 0, n - 12);
    Py_ssize_t qend = root ? root - msg + 5 : 4;
    if (walk_name(msg, n, 12, ttls) + 4 != qend || qend > n)
        return 0;
    Py_ssize_t off = qend;
    for (unsigned i = 0; i < ancount + nscount; i++) {
        if (off + 2 <= n && msg[off] == 0xC0 && msg[off + 1] == 0x0C)
            off += 2;
        else
            off = walk_name(msg, n, off, ttls);
        if (off < 0 || off + 10 > n)
            return 0;
        unsigned rrtype = be16(msg + off), rdlen = be16(msg + off + 8);
        Py_ssize_t ttl_at = off + 4, start = off + 10;
        off = start + rdlen;
        if (off > n)
            return 0;
        if (offsets_add(ttls, ttl_at))
            return -1;
        if (i < ancount) {
            if (offsets_add(answer_ttls, ttl_at))
                return -1;
            if (!rdata_names_ok(msg, n, rrtype, start, off, ttls))
                return 0;
        }
    }
    *qend_out = qend;
    *end_out = off;
    return 1;
}

/* walk_message's result as a tuple of WALK_FIELDS (layout.Walk): question end, sections end, TTL offsets,
 * answer TTL offsets, and with `with_variant` the variant key (the bytes from the question's end to the
 * sections' end, TTLs zeroed: Layout.variant; else None); None when the message cannot be cached. NULL on
 * error. */
static PyObject *walk_result(const unsigned char *msg, Py_ssize_t n, int with_variant)
{
    Offsets ttls = {0}, answer_ttls = {0};
    Py_ssize_t qend = 0, end = 0;
    PyObject *result = NULL, *variant = NULL;
    int found = walk_message(msg, n, &ttls, &answer_ttls, &qend, &end);
    if (found < 0)
        PyErr_NoMemory();
    else if (found == 0)
        result = Py_NewRef(Py_None);
    else {
        if (!with_variant)
            variant = Py_NewRef(Py_None);
        else if ((variant = PyBytes_FromStringAndSize((const char *)msg + qend, end - qend)) != NULL) {
            for (Py_ssize_t i = 0; i < ttls.len; i++) /* walk_message keeps each TTL within [qend, end) */
                memset(PyBytes_AS_STRING(variant) + (ttls.at[i] - qend), 0, 4);
        }
        PyObject *items[WALK_SIZE] = {
            [WALK_qend] = PyLong_FromSsize_t(qend),           [WALK_end] = PyLong_FromSsize_t(end),
            [WALK_offsets] = offsets_tuple(&ttls),            [WALK_answer_ttls] = offsets_tuple(&answer_ttls),
            [WALK_variant] = variant,
        };
        result = tuple_from(WALK_SIZE, items); /* steals all five */
    }
    PyMem_Free(ttls.at);
    PyMem_Free(answer_ttls.at);
    return result;
}

static PyObject *walk(PyObject *self, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    PyObject *result = walk_result(view.buf, view.len, 0);
    PyBuffer_Release(&view);
    return result;
}

/* ---- message.decode_response in C, for the common case (message.py has the reference) ----
 * Names whose labels are all [a-z0-9_-] (after lowercasing), rdata of A, AAAA, CNAME, NS, PTR, DNAME and MX.
 * Anything else, and every malformed message, gives None: the Python decoder then decides (and names the error). */

#define NAME_TEXT_MAX 256

/* message.read_name_wire's rules: the offset after the name at `off`, or -1 when Python must decide. With `out`,
 * only a name of simple labels is taken, and its canonical text written there (NUL-free, at most 254 characters,
 * "." for the root); without, any label bytes are. */
static Py_ssize_t simple_name(const unsigned char *buf, Py_ssize_t n, Py_ssize_t off, char *out, Py_ssize_t *out_len)
{
    Py_ssize_t end = -1, limit = off, size = 0, len = 0;
    for (;;) {
        if (off >= n)
            return -1;
        unsigned length = buf[off];
        if (length == 0) {
            if (out != NULL) {
                if (len == 0)
                    out[len++] = '.';
                *out_len = len;
            }
            return end < 0 ? off + 1 : end;
        }
        if (length < 64) {
            Py_ssize_t nxt = off + 1 + length;
            size += length + 1;
            if (nxt > n || size > 254)
                return -1;
            if (out != NULL && len)
                out[len++] = '.';
            for (Py_ssize_t i = off + 1; out != NULL && i < nxt; i++) {
                unsigned char c = buf[i];
                if (c >= 'A' && c <= 'Z')
                    c = (unsigned char)(c + 32);
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
                    return -1;
                out[len++] = (char)c;
            }
            off = nxt;
        }
        else if (length >= 0xC0) {
            if (off + 1 >= n)
                return -1;
            Py_ssize_t ptr = ((Py_ssize_t)(length & 0x3F) << 8) | buf[off + 1];
            if (ptr >= limit)
                return -1;
            if (end < 0)
                end = off + 2;
            limit = off = ptr;
        }
        else
            return -1;
    }
}

/* The name at `off` as a str (NULL with *after = -1 when Python must decide; NULL with an exception on error). */
static PyObject *name_object(const unsigned char *buf, Py_ssize_t n, Py_ssize_t off, Py_ssize_t *after)
{
    char text[NAME_TEXT_MAX];
    Py_ssize_t len;
    *after = simple_name(buf, n, off, text, &len);
    return *after < 0 ? NULL : PyUnicode_FromStringAndSize(text, len);
}

/* `value` in decimal at `out` (at most 5 digits here): the number of characters written. */
static Py_ssize_t decimal(unsigned value, char *out)
{
    char digits[10];
    Py_ssize_t count = 0, len = 0;
    do {
        digits[count++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    while (count)
        out[len++] = digits[--count];
    return len;
}

/* message.rdata_text for the types handled here: a str, or NULL (an exception set, or Python must decide). */
static PyObject *simple_rdata(const unsigned char *buf, Py_ssize_t n, Py_ssize_t off, Py_ssize_t rdlen,
                              unsigned rrtype)
{
    const unsigned char *p = buf + off;
    Py_ssize_t after;
    switch (rrtype) {
    case 1: { /* A: the dotted quad */
        char text[16];
        Py_ssize_t len = 0;
        if (rdlen != 4)
            return NULL;
        for (int i = 0; i < 4; i++) {
            if (i)
                text[len++] = '.';
            len += decimal(p[i], text + len);
        }
        return PyUnicode_FromStringAndSize(text, len);
    }
    case 28: { /* AAAA: inet_ntop, as socket.inet_ntop */
        char text[INET6_ADDRSTRLEN];
        if (rdlen != 16 || inet_ntop(AF_INET6, p, text, sizeof text) == NULL)
            return NULL;
        return PyUnicode_FromString(text);
    }
    case 5: case 2: case 12: case 39: { /* CNAME, NS, PTR, DNAME: the name must fill the rdata */
        PyObject *name = name_object(buf, n, off, &after);
        if (name != NULL && after != off + rdlen)
            Py_CLEAR(name);
        return name;
    }
    case 15: { /* MX: "preference exchange" */
        char text[8 + NAME_TEXT_MAX];
        Py_ssize_t len, name_len;
        if (rdlen < 3)
            return NULL;
        len = decimal(be16(p), text);
        text[len++] = ' ';
        after = simple_name(buf, n, off + 2, text + len, &name_len);
        if (after < 0 || after != off + rdlen)
            return NULL;
        return PyUnicode_FromStringAndSize(text, len + name_len);
    }
    default:
        return NULL;
    }
}

/* message._authority_has_soa: 1, 0, or -1 when a name is malformed (Python raises for it). */
static int authority_has_soa(const unsigned char *buf, Py_ssize_t n, Py_ssize_t off, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        off = simple_name(buf, n, off, NULL, NULL); /* read_name_wire takes any label bytes */
        if (off < 0)
            return -1;
        if (off + 10 > n)
            return 0;
        if (be16(buf + off) == 6) /* SOA */
            return 1;
        off += 10 + be16(buf + off + 8);
    }
    return 0;
}

/* The answer records as message's RR tuples; NULL (exception set, or none when Python must decide). */
static PyObject *simple_answers(const unsigned char *buf, Py_ssize_t n, Py_ssize_t *offp, unsigned count)
{
    PyObject *answers = PyList_New(0);
    Py_ssize_t off = *offp;
    for (unsigned i = 0; answers != NULL && i < count; i++) {
        Py_ssize_t after;
        PyObject *owner = name_object(buf, n, off, &after), *rdata = NULL, *rr = NULL;
        if (owner == NULL || after + 10 > n)
            goto fail;
        off = after;
        unsigned rrtype = be16(buf + off), rrclass = be16(buf + off + 2), rdlen = be16(buf + off + 8);
        uint32_t ttl = be32(buf + off + 4);
        off += 10;
        if (off + (Py_ssize_t)rdlen > n || (rdata = simple_rdata(buf, n, off, rdlen, rrtype)) == NULL)
            goto fail;
        PyObject *items[RR_SIZE] = {
            [RR_owner] = owner, [RR_rrtype] = PyLong_FromUnsignedLong(rrtype),
            [RR_rrclass] = PyLong_FromUnsignedLong(rrclass), [RR_ttl] = PyLong_FromUnsignedLong(ttl),
            [RR_rdata] = rdata,
        };
        rr = tuple_from(RR_SIZE, items); /* steals all five */
        owner = rdata = NULL;
        if (rr == NULL || PyList_Append(answers, rr))
            goto fail;
        Py_DECREF(rr);
        off += rdlen;
        continue;
    fail:
        Py_XDECREF(rr);
        Py_XDECREF(rdata);
        Py_XDECREF(owner);
        Py_CLEAR(answers);
    }
    *offp = off;
    return answers;
}

static PyObject *decode(PyObject *self, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    const unsigned char *buf = view.buf;
    Py_ssize_t n = view.len, off;
    PyObject *qname = NULL, *answers = NULL, *result = NULL;
    if (n < 12 || be16(buf + 4) != 1)
        goto done;
    qname = name_object(buf, n, 12, &off);
    if (qname == NULL || off + 4 > n)
        goto done;
    unsigned qtype = be16(buf + off), qclass = be16(buf + off + 2), nscount = be16(buf + 8);
    off += 4;
    answers = simple_answers(buf, n, &off, be16(buf + 6));
    if (answers == NULL)
        goto done;
    int has_soa = nscount > 0 ? authority_has_soa(buf, n, off, nscount) : 0;
    if (has_soa >= 0) {
        PyObject *items[RESPONSE_SIZE] = {
            [RESPONSE_txid] = PyLong_FromUnsignedLong(be16(buf)),
            [RESPONSE_flags] = PyLong_FromUnsignedLong(be16(buf + 2)),
            [RESPONSE_qname] = qname,
            [RESPONSE_qtype] = PyLong_FromUnsignedLong(qtype),
            [RESPONSE_qclass] = PyLong_FromUnsignedLong(qclass),
            [RESPONSE_answers] = answers,
            [RESPONSE_has_soa] = Py_NewRef(has_soa ? Py_True : Py_False),
            [RESPONSE_canonical] = Py_NewRef(Py_True),
        };
        result = tuple_from(RESPONSE_SIZE, items); /* steals all eight */
        qname = answers = NULL;
    }
done:
    Py_XDECREF(qname);
    Py_XDECREF(answers);
    PyBuffer_Release(&view);
    if (result == NULL && !PyErr_Occurred())
        result = Py_NewRef(Py_None);
    return result;
}

static PyObject *fold(PyObject *self, PyObject *args)
{
    Fold f = {0};
    PyObject *fold_object, *entries, *answer_ttls;
    Py_buffer msg;
    long long sec;
    if (!PyArg_ParseTuple(args, "OO!O!y*L:fold", &fold_object, &PyTuple_Type, &entries, &PyTuple_Type, &answer_ttls,
                          &msg, &sec))
        return NULL;
    int failed = read_fold(fold_object, &f) || fold_rrsets(&f, entries, answer_ttls, msg.buf, msg.len, sec);
    release_fold(&f);
    PyBuffer_Release(&msg);
    return failed ? NULL : Py_NewRef(Py_None);
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS,
     "scan(state, data, meta) -> None\n\n"
     "One Ethernet batch through the fast path of batchloop.process_batch (see there), with what it reads from "
     "state (a batchloop.ScanState); sets the batch's counts on it."},
    {"fold", fold, METH_VARARGS,
     "fold(fold, entries, answer_ttls, message, sec) -> None\n\n"
     "answers.fold_rrsets into an answers.Fold for one message, its answer TTLs read at the layout's offsets."},
    {"decode", decode, METH_O,
     "decode(message) -> tuple of RESPONSE_FIELDS or None\n\n"
     "message.decode_response for messages of simple names and A, AAAA, name-only and MX rdata, whose names and "
     "rdata are canonical (canonical: True); None for any other "
     "(and for a malformed one): the Python decoder then decides."},
    {"walk", walk, METH_O,
     "walk(message) -> tuple of WALK_FIELDS (layout.Walk) or None\n\n"
     "layout.walk (see there)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastwire",
                                    "The wire sensors' hot path in C (batchloop.py, answers.py, layout.py and "
                                    "message.py have the reference; boundary.py the shapes).",
                                    -1, methods, NULL, NULL, NULL, NULL};

/* SHAPES: each shape's Python field names from boundary.h, a tuple when it is positional, a frozenset when it is
 * read by attribute name. */
static const char *const layout_fields[] = {LAYOUT_FIELDS(FIELD_NAME, LAYOUT)};
static const char *const entry_fields[] = {ENTRY_FIELDS(FIELD_NAME, ENTRY)};
static const char *const fold_numbers_fields[] = {FOLD_NUMBERS_FIELDS(FIELD_NAME, FOLD_NUMBERS)};
static const char *const fold_fields[] = {FOLD_FIELDS(FIELD_NAME, FOLD)};
static const char *const walk_fields[] = {WALK_FIELDS(FIELD_NAME, WALK)};
static const char *const response_fields[] = {RESPONSE_FIELDS(FIELD_NAME, RESPONSE)};
static const char *const rr_fields[] = {RR_FIELDS(FIELD_NAME, RR)};
static const char *const scan_state_fields[] = {SCAN_INPUT_FIELDS(FIELD_NAME, SCAN) SCAN_COUNT_FIELDS(FIELD_NAME, COUNT)};

static const struct {
    const char *shape;
    const char *const *fields;
    Py_ssize_t size;
    int by_name;
} shapes[] = {
    {"Layout", layout_fields, LAYOUT_SIZE, 0},
    {"FoldEntry", entry_fields, ENTRY_SIZE, 0},
    {"FoldNumbers", fold_numbers_fields, FOLD_NUMBERS_SIZE, 0},
    {"Fold", fold_fields, FOLD_SIZE, 1},
    {"Walk", walk_fields, WALK_SIZE, 0},
    {"DnsResponse", response_fields, RESPONSE_SIZE, 0},
    {"RR", rr_fields, RR_SIZE, 0},
    {"ScanState", scan_state_fields, SCAN_INPUT_SIZE + SCAN_COUNT_SIZE, 1},
};

static PyObject *names_tuple(const char *const *fields, Py_ssize_t size)
{
    PyObject *tuple = PyTuple_New(size);
    for (Py_ssize_t i = 0; tuple != NULL && i < size; i++) {
        PyObject *name = PyUnicode_InternFromString(fields[i]);
        if (name == NULL)
            Py_CLEAR(tuple);
        else
            PyTuple_SET_ITEM(tuple, i, name);
    }
    return tuple;
}

static int add_shapes(PyObject *mod)
{
    PyObject *all = PyDict_New();
    int failed = all == NULL;
    for (size_t i = 0; !failed && i < sizeof shapes / sizeof *shapes; i++) {
        PyObject *names = names_tuple(shapes[i].fields, shapes[i].size);
        PyObject *value = names != NULL && shapes[i].by_name ? PyFrozenSet_New(names) : Py_XNewRef(names);
        failed = value == NULL || PyDict_SetItemString(all, shapes[i].shape, value) < 0;
        Py_XDECREF(value);
        Py_XDECREF(names);
    }
    failed = failed || PyModule_AddObjectRef(mod, "SHAPES", all) < 0;
    Py_XDECREF(all);
    return failed ? -1 : 0;
}

/* The attribute names scan() and fold() read and set, interned once. */
static int intern_names(PyObject **out, const char *const *fields, Py_ssize_t size)
{
    for (Py_ssize_t i = 0; i < size; i++)
        if (out[i] == NULL && (out[i] = PyUnicode_InternFromString(fields[i])) == NULL)
            return -1;
    return 0;
}

PyMODINIT_FUNC PyInit__fastwire(void)
{
    if (intern_names(fold_names, fold_fields, FOLD_SIZE) ||
        intern_names(scan_input_names, scan_state_fields, SCAN_INPUT_SIZE) ||
        intern_names(scan_count_names, scan_state_fields + SCAN_INPUT_SIZE, SCAN_COUNT_SIZE))
        return NULL;
    PyObject *mod = PyModule_Create(&module);
    if (mod != NULL && add_shapes(mod) < 0)
        Py_CLEAR(mod);
    return mod;
}
