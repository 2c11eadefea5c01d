/*
 * The C side of boundary.py: every value that crosses between the Python wire decoder and _fastwire.c, named.
 *
 * Each shape is one X-macro list of its fields, in order. The list makes the C names (an enum constant per
 * tuple position, or a struct member) and the Python names, which the module exports in _fastwire.SHAPES:
 * a tuple for a shape read or built by position, a frozenset for an object read by attribute name. Python's
 * boundary.c_helper binds a helper only when every shape it uses has the same fields on both sides, so a
 * field added, removed or moved on one side only makes the Python reference run instead (and
 * tests/agent/wire/test_boundary.py fail); it never makes C read the wrong field.
 *
 * Reading or building a tuple uses these constants only (LAYOUT_end, never 0).
 */
#ifndef YAPDNS_WIRE_BOUNDARY_H
#define YAPDNS_WIRE_BOUNDARY_H

#include <stdint.h>

#define FIELD_ENUM(prefix, field) prefix##_##field,
#define FIELD_NAME(prefix, field) #field,
#define FIELD_INT64(prefix, field) int64_t field;

/* answers.Layout (a NamedTuple): where one header + question's answer and authority sections end, their TTL
 * offsets, its decoded variants, where its question ends. scan() reads it from the layouts dict. */
#define LAYOUT_FIELDS(X, P) X(P, end) X(P, offsets) X(P, answer_ttls) X(P, variants) X(P, qend)
enum { LAYOUT_FIELDS(FIELD_ENUM, LAYOUT) LAYOUT_SIZE };

/* answers.ENTRY_FIELDS: one fold entry of a variant, a tuple (template id, template, answer RR indices). */
#define ENTRY_FIELDS(X, P) X(P, template_id) X(P, template) X(P, indices)
enum { ENTRY_FIELDS(FIELD_ENUM, ENTRY) ENTRY_SIZE };

/* answers.FOLD_FIELDS: one folded RRset's numbers, a bytearray of native int64 (answers.FOLD); NO_TTL (-1) as
 * both TTLs for a negative answer. */
#define FOLD_NUMBERS_FIELDS(X, P) X(P, first) X(P, last) X(P, count) X(P, ttl_min) X(P, ttl_max)
enum { FOLD_NUMBERS_FIELDS(FIELD_ENUM, FOLD_NUMBERS) FOLD_NUMBERS_SIZE };
typedef struct {
    FOLD_NUMBERS_FIELDS(FIELD_INT64, FOLD_NUMBERS)
} FoldNumbers;
_Static_assert(sizeof(FoldNumbers) == FOLD_NUMBERS_SIZE * sizeof(int64_t), "FoldNumbers is packed int64");

/* answers.Fold (read by attribute): the folded numbers and the templates, both by template id. */
#define FOLD_FIELDS(X, P) X(P, numbers) X(P, templates)
enum { FOLD_FIELDS(FIELD_ENUM, FOLD) FOLD_SIZE };

/* layout.Walk (a NamedTuple): what walk() returns, and what scan() hands to AnswerLayouts.learn for a response
 * not seen before (with the variant key; walk() leaves it None). */
#define WALK_FIELDS(X, P) X(P, qend) X(P, end) X(P, offsets) X(P, answer_ttls) X(P, variant)
enum { WALK_FIELDS(FIELD_ENUM, WALK) WALK_SIZE };

/* message.RESPONSE_FIELDS: decode()'s tuple, the arguments of message.DnsResponse in order. */
#define RESPONSE_FIELDS(X, P)                                                                                      \
    X(P, txid) X(P, flags) X(P, qname) X(P, qtype) X(P, qclass) X(P, answers) X(P, has_soa) X(P, canonical)
enum { RESPONSE_FIELDS(FIELD_ENUM, RESPONSE) RESPONSE_SIZE };

/* message.RR_FIELDS: one decoded answer record, a tuple. */
#define RR_FIELDS(X, P) X(P, owner) X(P, rrtype) X(P, rrclass) X(P, ttl) X(P, rdata)
enum { RR_FIELDS(FIELD_ENUM, RR) RR_SIZE };

/* batchloop.ScanState (read by attribute): what scan() reads for one batch, and the counts it sets. */
#define SCAN_INPUT_FIELDS(X, P)                                                                                    \
    X(P, linktype) X(P, port_bitmap) X(P, queries) X(P, max_pending_queries) X(P, layouts) X(P, fold)              \
    X(P, keep_unsolicited) X(P, general) X(P, respond) X(P, query)
enum { SCAN_INPUT_FIELDS(FIELD_ENUM, SCAN) SCAN_INPUT_SIZE };
#define SCAN_COUNT_FIELDS(X, P) X(P, packets) X(P, other_ports) X(P, unsolicited)
enum { SCAN_COUNT_FIELDS(FIELD_ENUM, COUNT) SCAN_COUNT_SIZE };

/* pcapy-ng's next_batch: one 16-byte record per packet, native byte order (batchloop._META). */
typedef struct {
    uint32_t sec, usec, offset, caplen;
} PacketRecord;
_Static_assert(sizeof(PacketRecord) == 16, "a packet record is four uint32");

#endif
