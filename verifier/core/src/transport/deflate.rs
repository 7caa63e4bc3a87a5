//! A small raw DEFLATE (RFC 1951) compressor that can start from a preset
//! dictionary, for the QR transport's format 2.
//!
//! `miniz_oxide` inflates with a preset dictionary (the output buffer starts
//! with the dictionary) but cannot compress with one, and the texts the
//! transport compresses are small (a few hundred bytes to a few KB), where
//! every byte saved is 1.5 characters in the QR code. So this compressor
//! spends its effort on size: every match against the dictionary and the
//! text so far is found (hash chains), the parse is chosen by shortest path
//! over bit costs, and the Huffman codes and the parse are refined against
//! each other a few times (the approach of zopfli). The output is one block,
//! fixed or dynamic Huffman, whichever is smaller.
//!
//! Only the transport's decoder-independent property matters for
//! correctness: the output is a valid DEFLATE stream that inflates, with
//! the same dictionary as history, to exactly the input. The transport's
//! tests and fuzz target check that against `miniz_oxide`.

/// The largest distance DEFLATE can express.
const WINDOW: usize = 32_768;
/// The longest match.
const MAX_MATCH: usize = 258;
const MIN_MATCH: usize = 3;
/// How many earlier occurrences of a 3-byte prefix are examined at most.
const MAX_CHAIN: usize = 1_024;
/// Parse and code refinement rounds.
const ROUNDS: usize = 10;
/// Above this size the parse is refined fewer times (texts that large do
/// not fit a handful of QR codes anyway; they only need to be correct).
const LARGE: usize = 32 * 1024;

const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// The order in which code length code lengths are sent (RFC 1951 §3.2.7).
const CL_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];
const END_OF_BLOCK: usize = 256;

/// Index of the length code (0-based, i.e. symbol − 257) of a match length.
fn len_code(len: usize) -> usize {
    LEN_BASE
        .iter()
        .rposition(|&b| usize::from(b) <= len)
        .unwrap_or(0)
}

/// Index of the distance code of a distance.
fn dist_code(dist: usize) -> usize {
    DIST_BASE
        .iter()
        .rposition(|&b| usize::from(b) <= dist)
        .unwrap_or(0)
}

/// One step of a parse: a literal byte or a back-reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Literal(u8),
    Match { len: u16, dist: u16 },
}

/// For one position: lengths `lo..=hi` are best reached with `dist` (the
/// smallest distance that gives them).
#[derive(Debug, Clone, Copy)]
struct Span {
    lo: u16,
    hi: u16,
    dist: u16,
}

/// Every useful match at every position of `data` (preceded by `dict`).
struct Matches {
    spans: Vec<Span>,
    /// `spans[start[i]..start[i + 1]]` are the spans of position `i`.
    start: Vec<usize>,
}

fn hash3(b: &[u8]) -> usize {
    match *b {
        [a, b, c, ..] => ((usize::from(a) << 10) ^ (usize::from(b) << 5) ^ usize::from(c)) & 0xffff,
        _ => 0,
    }
}

fn find_matches(dict: &[u8], data: &[u8]) -> Matches {
    let mut buf = Vec::with_capacity(dict.len() + data.len());
    buf.extend_from_slice(dict);
    buf.extend_from_slice(data);
    let end = buf.len();
    const NONE: usize = usize::MAX;
    let mut head = vec![NONE; 1 << 16];
    let mut prev = vec![NONE; end];
    let insert = |pos: usize, head: &mut Vec<usize>, prev: &mut Vec<usize>| {
        if pos + MIN_MATCH <= end {
            let h = hash3(&buf[pos..]);
            prev[pos] = head[h];
            head[h] = pos;
        }
    };
    for pos in dict.len().saturating_sub(WINDOW)..dict.len() {
        insert(pos, &mut head, &mut prev);
    }
    let mut spans = Vec::new();
    let mut start = Vec::with_capacity(data.len() + 1);
    for pos in dict.len()..end {
        start.push(spans.len());
        let max_len = MAX_MATCH.min(end - pos);
        if max_len >= MIN_MATCH {
            let mut best = MIN_MATCH - 1;
            let mut cand = head[hash3(&buf[pos..])];
            let mut chain = 0;
            while cand != NONE && pos - cand <= WINDOW && chain < MAX_CHAIN {
                chain += 1;
                if buf[cand + best] == buf[pos + best] {
                    let len = buf[cand..]
                        .iter()
                        .zip(&buf[pos..pos + max_len])
                        .take_while(|(a, b)| a == b)
                        .count();
                    if len > best {
                        spans.push(Span {
                            lo: (best + 1).max(MIN_MATCH) as u16,
                            hi: len as u16,
                            dist: (pos - cand) as u16,
                        });
                        best = len;
                        if len == max_len {
                            break;
                        }
                    }
                }
                cand = prev[cand];
            }
        }
        insert(pos, &mut head, &mut prev);
    }
    start.push(spans.len());
    Matches { spans, start }
}

/// Bit costs of every symbol under one code.
struct Costs {
    lit: [u32; 286],
    dist: [u32; 30],
    /// Cost of a match length: its symbol and extra bits.
    len: [u32; MAX_MATCH + 1],
}

impl Costs {
    fn fixed() -> Costs {
        let mut lit = [0; 286];
        for (s, c) in lit.iter_mut().enumerate() {
            *c = match s {
                0..=143 => 8,
                144..=255 => 9,
                256..=279 => 7,
                _ => 8,
            };
        }
        Costs::new(lit, [5; 30])
    }

    fn new(lit: [u32; 286], dist: [u32; 30]) -> Costs {
        let mut len = [0; MAX_MATCH + 1];
        for (l, c) in len.iter_mut().enumerate().skip(MIN_MATCH) {
            let lc = len_code(l);
            *c = lit[257 + lc] + u32::from(LEN_EXTRA[lc]);
        }
        Costs { lit, dist, len }
    }

    /// Costs from code lengths; a symbol without a code is given a cost a
    /// little above the longest code so the next parse may still try it.
    fn from_lengths(lit_len: &[u8], dist_len: &[u8]) -> Costs {
        let unused = |lens: &[u8]| u32::from(lens.iter().copied().max().unwrap_or(0)) + 2;
        let (ul, ud) = (unused(lit_len), unused(dist_len));
        let mut lit = [ul; 286];
        let mut dist = [ud; 30];
        for (c, &l) in lit.iter_mut().zip(lit_len) {
            if l > 0 {
                *c = u32::from(l);
            }
        }
        for (c, &l) in dist.iter_mut().zip(dist_len) {
            if l > 0 {
                *c = u32::from(l);
            }
        }
        Costs::new(lit, dist)
    }

    fn dist_cost(&self, dist: usize) -> u32 {
        let dc = dist_code(dist);
        self.dist[dc] + u32::from(DIST_EXTRA[dc])
    }

    fn match_cost(&self, len: usize, dist: usize) -> u32 {
        self.len[len] + self.dist_cost(dist)
    }
}

/// The cheapest parse of `data` under `costs` (shortest path).
fn parse(data: &[u8], matches: &Matches, costs: &Costs) -> Vec<Step> {
    let n = data.len();
    let mut cost = vec![u32::MAX; n + 1];
    let mut how = vec![Step::Literal(0); n + 1];
    cost[0] = 0;
    for i in 0..n {
        let here = cost[i];
        if here == u32::MAX {
            continue;
        }
        let lit = here.saturating_add(costs.lit[usize::from(data[i])]);
        if lit < cost[i + 1] {
            cost[i + 1] = lit;
            how[i + 1] = Step::Literal(data[i]);
        }
        for span in &matches.spans[matches.start[i]..matches.start[i + 1]] {
            let at = here.saturating_add(costs.dist_cost(usize::from(span.dist)));
            for len in usize::from(span.lo)..=usize::from(span.hi) {
                let c = at.saturating_add(costs.len[len]);
                if c < cost[i + len] {
                    cost[i + len] = c;
                    how[i + len] = Step::Match {
                        len: len as u16,
                        dist: span.dist,
                    };
                }
            }
        }
    }
    let mut steps = Vec::new();
    let mut at = n;
    while at > 0 {
        let step = how[at];
        steps.push(step);
        at -= match step {
            Step::Literal(_) => 1,
            Step::Match { len, .. } => usize::from(len),
        };
    }
    steps.reverse();
    steps
}

/// Symbol frequencies of a parse (end of block included).
fn frequencies(steps: &[Step]) -> ([u32; 286], [u32; 30]) {
    let mut lit = [0u32; 286];
    let mut dist = [0u32; 30];
    for s in steps {
        match *s {
            Step::Literal(b) => lit[usize::from(b)] += 1,
            Step::Match { len, dist: d } => {
                lit[257 + len_code(usize::from(len))] += 1;
                dist[dist_code(usize::from(d))] += 1;
            }
        }
    }
    lit[END_OF_BLOCK] += 1;
    (lit, dist)
}

/// Huffman code lengths of at most `limit` bits. Every alphabet gets at
/// least two codes, so every code is complete (some inflaters refuse an
/// incomplete one).
fn code_lengths(freq: &[u32], limit: u8) -> Vec<u8> {
    let mut f = freq.to_vec();
    for _ in 0..2 {
        if f.iter().filter(|&&x| x > 0).count() < 2
            && let Some(z) = f.iter().position(|&x| x == 0)
        {
            f[z] = 1;
        }
    }
    loop {
        let lens = huffman(&f);
        if lens.iter().all(|&l| l <= limit) {
            return lens;
        }
        // Flatten the distribution until the tree is shallow enough.
        for x in f.iter_mut().filter(|x| **x > 0) {
            *x = x.div_ceil(2);
        }
    }
}

/// Unlimited Huffman code lengths (deterministic ties: lower weight, then
/// older node, first).
fn huffman(freq: &[u32]) -> Vec<u8> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut parent: Vec<usize> = Vec::new();
    let mut heap = BinaryHeap::new();
    let mut leaf_node = vec![usize::MAX; freq.len()];
    for (s, &w) in freq.iter().enumerate() {
        if w > 0 {
            leaf_node[s] = parent.len();
            heap.push(Reverse((u64::from(w), parent.len())));
            parent.push(usize::MAX);
        }
    }
    while heap.len() > 1 {
        let (Some(Reverse((wa, a))), Some(Reverse((wb, b)))) = (heap.pop(), heap.pop()) else {
            break;
        };
        let node = parent.len();
        parent.push(usize::MAX);
        parent[a] = node;
        parent[b] = node;
        heap.push(Reverse((wa + wb, node)));
    }
    leaf_node
        .iter()
        .map(|&n| {
            if n == usize::MAX {
                return 0;
            }
            let mut depth = 0u8;
            let mut at = n;
            while parent[at] != usize::MAX {
                at = parent[at];
                depth = depth.saturating_add(1);
            }
            depth
        })
        .collect()
}

/// Canonical codes (RFC 1951 §3.2.2) for code lengths, bit-reversed for an
/// LSB-first writer.
fn codes(lens: &[u8]) -> Vec<u16> {
    let mut count = [0u16; 16];
    for &l in lens {
        count[usize::from(l)] += 1;
    }
    count[0] = 0;
    let mut next = [0u16; 16];
    let mut code = 0u16;
    for bits in 1..16 {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
    }
    lens.iter()
        .map(|&l| {
            if l == 0 {
                return 0;
            }
            let c = next[usize::from(l)];
            next[usize::from(l)] += 1;
            c.reverse_bits() >> (16 - u16::from(l))
        })
        .collect()
}

/// Run-length coding of the code lengths (symbols 0–18 with extra bits).
fn rle(lens: &[u8]) -> Vec<(u8, u8)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lens.len() {
        let l = lens[i];
        let run = lens[i..].iter().take_while(|&&x| x == l).count();
        if l == 0 && run >= 3 {
            let r = run.min(138);
            if r >= 11 {
                out.push((18, (r - 11) as u8));
            } else {
                out.push((17, (r - 3) as u8));
            }
            i += r;
        } else if l != 0 && run >= 4 {
            out.push((l, 0));
            let r = (run - 1).min(6);
            out.push((16, (r - 3) as u8));
            i += 1 + r;
        } else {
            out.push((l, 0));
            i += 1;
        }
    }
    out
}

fn rle_extra_bits(sym: u8) -> u32 {
    match sym {
        16 => 2,
        17 => 3,
        18 => 7,
        _ => 0,
    }
}

/// A dynamic Huffman block, planned: its code and header.
struct Dynamic {
    lit_len: Vec<u8>,
    dist_len: Vec<u8>,
    hlit: usize,
    hdist: usize,
    cl_len: Vec<u8>,
    hclen: usize,
    runs: Vec<(u8, u8)>,
}

impl Dynamic {
    fn plan(steps: &[Step]) -> Dynamic {
        let (lf, df) = frequencies(steps);
        let lit_len = code_lengths(&lf, 15);
        let dist_len = code_lengths(&df, 15);
        let hlit = 257.max(lit_len.iter().rposition(|&l| l > 0).map_or(0, |p| p + 1));
        let hdist = 1.max(dist_len.iter().rposition(|&l| l > 0).map_or(0, |p| p + 1));
        let mut all = lit_len[..hlit].to_vec();
        all.extend_from_slice(&dist_len[..hdist]);
        let runs = rle(&all);
        let mut cf = [0u32; 19];
        for &(s, _) in &runs {
            cf[usize::from(s)] += 1;
        }
        let cl_len = code_lengths(&cf, 7);
        let hclen = 4.max(
            CL_ORDER
                .iter()
                .rposition(|&s| cl_len[s] > 0)
                .map_or(0, |p| p + 1),
        );
        Dynamic {
            lit_len,
            dist_len,
            hlit,
            hdist,
            cl_len,
            hclen,
            runs,
        }
    }

    fn costs(&self) -> Costs {
        Costs::from_lengths(&self.lit_len, &self.dist_len)
    }

    fn header_bits(&self) -> u64 {
        let mut bits = 3 + 5 + 5 + 4 + 3 * self.hclen as u64;
        for &(s, _) in &self.runs {
            bits += u64::from(self.cl_len[usize::from(s)]) + u64::from(rle_extra_bits(s));
        }
        bits
    }
}

/// Exact size in bits of the symbols of a parse under `costs` (end of
/// block included).
fn data_bits(steps: &[Step], costs: &Costs) -> u64 {
    steps
        .iter()
        .map(|s| match *s {
            Step::Literal(b) => u64::from(costs.lit[usize::from(b)]),
            Step::Match { len, dist } => {
                u64::from(costs.match_cost(usize::from(len), usize::from(dist)))
            }
        })
        .sum::<u64>()
        + u64::from(costs.lit[END_OF_BLOCK])
}

/// LSB-first bit writer.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u32, bits: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += bits;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

fn write_steps(w: &mut Bits, steps: &[Step], lit_len: &[u8], dist_len: &[u8]) {
    let lit_code = codes(lit_len);
    let dist_code_of = codes(dist_len);
    let sym = |w: &mut Bits, s: usize| w.put(u32::from(lit_code[s]), u32::from(lit_len[s]));
    for step in steps {
        match *step {
            Step::Literal(b) => sym(w, usize::from(b)),
            Step::Match { len, dist } => {
                let (len, dist) = (usize::from(len), usize::from(dist));
                let lc = len_code(len);
                sym(w, 257 + lc);
                w.put(
                    (len - usize::from(LEN_BASE[lc])) as u32,
                    u32::from(LEN_EXTRA[lc]),
                );
                let dc = dist_code(dist);
                w.put(u32::from(dist_code_of[dc]), u32::from(dist_len[dc]));
                w.put(
                    (dist - usize::from(DIST_BASE[dc])) as u32,
                    u32::from(DIST_EXTRA[dc]),
                );
            }
        }
    }
    sym(w, END_OF_BLOCK);
}

fn fixed_lengths() -> (Vec<u8>, Vec<u8>) {
    let lit = (0..288)
        .map(|s| match s {
            0..=143 => 8,
            144..=255 => 9,
            256..=279 => 7,
            _ => 8,
        })
        .collect();
    (lit, vec![5; 30])
}

/// Compresses `data` as one final DEFLATE block that may refer back into
/// `dict` (the decoder's history before the first output byte).
pub(crate) fn compress(dict: &[u8], data: &[u8]) -> Vec<u8> {
    let matches = find_matches(dict, data);
    let fixed = Costs::fixed();
    let fixed_steps = parse(data, &matches, &fixed);
    let fixed_bits = 3 + data_bits(&fixed_steps, &fixed);

    let mut best: Option<(u64, Vec<Step>, Dynamic)> = None;
    let mut steps = fixed_steps.clone();
    let rounds = if data.len() > LARGE { 2 } else { ROUNDS };
    for _ in 0..rounds {
        let plan = Dynamic::plan(&steps);
        let costs = plan.costs();
        let bits = plan.header_bits() + data_bits(&steps, &costs);
        if best.as_ref().is_none_or(|(b, _, _)| bits < *b) {
            best = Some((bits, steps.clone(), plan));
        }
        let next = parse(data, &matches, &costs);
        if next == steps {
            break;
        }
        steps = next;
    }

    let mut w = Bits {
        out: Vec::new(),
        acc: 0,
        n: 0,
    };
    match best {
        Some((bits, steps, plan)) if bits < fixed_bits => {
            w.put(1, 1); // final block
            w.put(2, 2); // dynamic Huffman
            w.put((plan.hlit - 257) as u32, 5);
            w.put((plan.hdist - 1) as u32, 5);
            w.put((plan.hclen - 4) as u32, 4);
            for &s in &CL_ORDER[..plan.hclen] {
                w.put(u32::from(plan.cl_len[s]), 3);
            }
            let cl_code = codes(&plan.cl_len);
            for &(s, extra) in &plan.runs {
                let s = usize::from(s);
                w.put(u32::from(cl_code[s]), u32::from(plan.cl_len[s]));
                w.put(u32::from(extra), rle_extra_bits(s as u8));
            }
            write_steps(&mut w, &steps, &plan.lit_len, &plan.dist_len);
        }
        _ => {
            w.put(1, 1); // final block
            w.put(1, 2); // fixed Huffman
            let (lit, dist) = fixed_lengths();
            write_steps(&mut w, &fixed_steps, &lit, &dist);
        }
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};

    fn miniz_inflate(dict: &[u8], stream: &[u8]) -> (Vec<u8>, usize) {
        let mut out = dict.to_vec();
        out.resize(dict.len() + 1_000_000, 0);
        let mut r = DecompressorOxide::new();
        let (status, used, written) = decompress(
            &mut r,
            stream,
            &mut out,
            dict.len(),
            inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
        );
        assert_eq!(status, miniz_oxide::inflate::TINFLStatus::Done);
        (out[dict.len()..dict.len() + written].to_vec(), used)
    }

    fn round_trip(dict: &[u8], data: &[u8]) -> usize {
        let z = compress(dict, data);
        let mut padded = z.clone();
        padded.extend_from_slice(b"trailing");
        let (back, used) = miniz_inflate(dict, &padded);
        assert_eq!(back, data);
        assert_eq!(used, z.len(), "the stream's end is found exactly");
        z.len()
    }

    #[test]
    fn round_trips() {
        let dict = b"{\"alg\":\"EdDSA\",\"typ\":\"dc+sd-jwt\"}hello world";
        round_trip(dict, b"");
        round_trip(dict, b"a");
        round_trip(dict, b"ab");
        round_trip(b"", b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        let n = round_trip(
            dict,
            b"{\"alg\":\"EdDSA\",\"typ\":\"dc+sd-jwt\"} hello world",
        );
        assert!(n < 12, "{n}");
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = Vec::new();
        for _ in 0..70_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            random.push((state >> 56) as u8 % 7 + b'a');
        }
        round_trip(dict, &random);
        let bytes: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        round_trip(&bytes, &bytes);
    }

    #[test]
    fn skewed_code_lengths_stay_within_limits() {
        // Fibonacci frequencies make the deepest unlimited tree.
        let mut f = vec![0u32; 30];
        let (mut a, mut b) = (1u32, 1u32);
        for x in f.iter_mut() {
            *x = a;
            (a, b) = (b, a.saturating_add(b));
        }
        let lens = code_lengths(&f, 15);
        assert!(lens.iter().all(|&l| (1..=15).contains(&l)));
        let kraft: f64 = lens.iter().map(|&l| 0.5f64.powi(i32::from(l))).sum();
        assert!(kraft <= 1.0);
        let lens = code_lengths(&f[..19], 7);
        assert!(lens.iter().all(|&l| (1..=7).contains(&l)));
        assert_eq!(code_lengths(&[0, 0, 5], 15), vec![1, 0, 1]);
        assert_eq!(code_lengths(&[0, 0, 0], 15), vec![1, 1, 0]);
    }
}
