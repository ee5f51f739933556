//! The log as C2SP tlog-tiles: hash tiles and entry bundles.
//!
//! A tile at level `L` and index `N` holds the hashes of the tree's nodes at
//! height `8·L`, indexes `256·N … 256·N + W − 1`: each the root of a complete
//! subtree of `2^(8·L)` leaves. A full tile has `W = 256` and never changes;
//! a partial tile (`.p/W`, `1 ≤ W ≤ 255`) is the right edge of a tree whose
//! size is not a multiple of its span. An entry bundle holds the entries of
//! the level-0 tile with the same index, each as a big-endian `u16` length
//! and its bytes. With the signed checkpoint, these are all a client needs to
//! recompute the root and any proof, so a static server or CDN could mirror
//! the log byte for byte.

use crate::merkle::{Hash, NodeSource};
use crate::store::{LogError, LogStore, MAX_ENTRY_BYTES};

/// Hashes per full tile.
pub const TILE_WIDTH: u64 = 256;

/// A tile path: `tile/L/N[.p/W]` or `tile/entries/N[.p/W]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TilePath {
    /// The level, or `None` for an entry bundle.
    pub level: Option<u8>,
    /// The tile index.
    pub index: u64,
    /// The width: 256 for a full tile.
    pub width: u64,
}

/// What is wrong with a tile path (the part after `tile/`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TilePathError {
    /// The level is not 0 to 63 or `entries`.
    #[error("level `{0}`: expected 0 to 63 or `entries`")]
    Level(String),
    /// Nothing after the level.
    #[error("no tile index")]
    NoIndex,
    /// The partial width is not 1 to 255 in plain decimal.
    #[error("partial width `{0}`: expected 1 to 255")]
    Width(String),
    /// Something follows the partial width.
    #[error("`.p` must be followed by the width and nothing else")]
    AfterWidth,
    /// An index element other than the last lacks its `x`.
    #[error("index element `{0}`: all but the last start with x")]
    MissingX(String),
    /// An index element is not three digits.
    #[error("index element `{0}`: expected three digits")]
    Digits(String),
    /// The index does not fit 64 bits.
    #[error("the tile index overflows")]
    Overflow,
    /// The first of several index elements is `x000`.
    #[error("the tile index has a leading zero element")]
    LeadingZero,
}

/// Parses the part of a tile path after `tile/`. Errors say what is wrong.
pub fn parse(rest: &str) -> Result<TilePath, TilePathError> {
    let mut parts = rest.split('/');
    let first = parts.next().unwrap_or_default();
    let level = if first == "entries" {
        None
    } else {
        let l: u8 = first
            .parse()
            .ok()
            .filter(|l| *l <= 63 && first.bytes().all(|b| b.is_ascii_digit()))
            .filter(|_| first == "0" || !first.starts_with('0'))
            .ok_or_else(|| TilePathError::Level(first.to_string()))?;
        Some(l)
    };
    let segs: Vec<&str> = parts.collect();
    if segs.is_empty() {
        return Err(TilePathError::NoIndex);
    }
    // A partial tile ends in `NNN.p/W`.
    let (index_segs, width) = match segs.iter().position(|s| s.ends_with(".p")) {
        Some(p) if p + 2 == segs.len() => {
            let w = segs[p + 1];
            // Plain decimal only: `u64::from_str` would also take `+4`.
            let width: u64 = Some(w)
                .filter(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|w| w.parse().ok())
                .filter(|n| (1..TILE_WIDTH).contains(n) && !w.starts_with('0'))
                .ok_or_else(|| TilePathError::Width(w.to_string()))?;
            (&segs[..=p], width)
        }
        Some(_) => return Err(TilePathError::AfterWidth),
        None => (&segs[..], TILE_WIDTH),
    };
    let mut index: u64 = 0;
    for (k, seg) in index_segs.iter().enumerate() {
        let last = k + 1 == index_segs.len();
        let digits = if last {
            seg.strip_suffix(".p").unwrap_or(seg)
        } else {
            seg.strip_prefix('x')
                .ok_or_else(|| TilePathError::MissingX(seg.to_string()))?
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TilePathError::Digits(seg.to_string()));
        }
        let d: u64 = digits
            .parse()
            .map_err(|_| TilePathError::Digits(seg.to_string()))?;
        index = index
            .checked_mul(1000)
            .and_then(|i| i.checked_add(d))
            .ok_or(TilePathError::Overflow)?;
    }
    if index_segs.len() > 1 && index_segs[0] == "x000" {
        return Err(TilePathError::LeadingZero);
    }
    Ok(TilePath {
        level,
        index,
        width,
    })
}

/// The path of a tile, as [`parse`] reads it.
pub fn path(t: TilePath) -> String {
    let mut n = t.index;
    let mut elems = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        elems.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    elems.reverse();
    let level = t.level.map_or("entries".to_string(), |l| l.to_string());
    let mut p = format!("tile/{level}/{}", elems.join("/"));
    if t.width < TILE_WIDTH {
        p.push_str(&format!(".p/{}", t.width));
    }
    p
}

/// Why a tile cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TileError {
    /// The log is not big enough for it (yet).
    #[error("{path} is not in the log at size {size}")]
    NotYet {
        /// The tile asked for.
        path: String,
        /// The log's size.
        size: u64,
    },
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] LogError),
    /// A stored entry is too long for a bundle (cannot happen through
    /// [`LogStore::append`], which refuses such entries).
    #[error("entry {index} is {len} bytes, more than a bundle's 65,535")]
    EntryTooLong {
        /// Its index.
        index: u64,
        /// Its length.
        len: usize,
    },
}

/// The bytes of a tile of `log` at its current size.
pub fn read(log: &LogStore, t: TilePath) -> Result<Vec<u8>, TileError> {
    let height = 8 * u32::from(t.level.unwrap_or(0));
    let complete = if height >= 64 {
        0
    } else {
        log.size() >> height
    };
    let not_yet = || TileError::NotYet {
        path: path(t),
        size: log.size(),
    };
    let start = t.index.checked_mul(TILE_WIDTH).ok_or_else(not_yet)?;
    if complete < start.saturating_add(t.width) {
        return Err(not_yet());
    }
    let mut out = vec![];
    for i in start..start + t.width {
        match t.level {
            Some(_) => {
                let h: Hash = log.node(height, i).map_err(LogError::from)?;
                out.extend_from_slice(&h);
            }
            None => {
                let e = log.entry(i)?;
                push_bundle_entry(&mut out, &e)
                    .map_err(|len| TileError::EntryTooLong { index: i, len })?;
            }
        }
    }
    Ok(out)
}

/// Appends one entry to an entry bundle: a big-endian `u16` length, then
/// the bytes. `Err(len)` if the entry is longer than 65,535 bytes.
pub fn push_bundle_entry(bundle: &mut Vec<u8>, entry: &[u8]) -> Result<(), usize> {
    let len = u16::try_from(entry.len()).map_err(|_| entry.len())?;
    debug_assert!(entry.len() <= MAX_ENTRY_BYTES);
    bundle.extend_from_slice(&len.to_be_bytes());
    bundle.extend_from_slice(entry);
    Ok(())
}

/// What is wrong with an entry bundle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// One byte where a two-byte length was due.
    #[error("a truncated length prefix after entry {0}")]
    TruncatedLength(usize),
    /// An entry shorter than its length says.
    #[error("entry {index} is cut short: {have} of {len} bytes")]
    TruncatedEntry {
        /// Its position in the bundle.
        index: usize,
        /// Its declared length.
        len: usize,
        /// The bytes left.
        have: usize,
    },
    /// More entries than a bundle holds.
    #[error("more than {TILE_WIDTH} entries")]
    TooMany,
}

/// Splits an entry bundle into its entries (at most [`TILE_WIDTH`]).
pub fn parse_bundle(bytes: &[u8]) -> Result<Vec<Vec<u8>>, BundleError> {
    let mut out = vec![];
    let mut rest = bytes;
    while !rest.is_empty() {
        if out.len() as u64 == TILE_WIDTH {
            return Err(BundleError::TooMany);
        }
        let [a, b, tail @ ..] = rest else {
            return Err(BundleError::TruncatedLength(out.len()));
        };
        let n = usize::from(u16::from_be_bytes([*a, *b]));
        if tail.len() < n {
            return Err(BundleError::TruncatedEntry {
                index: out.len(),
                len: n,
                have: tail.len(),
            });
        }
        let (entry, next) = tail.split_at(n);
        out.push(entry.to_vec());
        rest = next;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip_as_the_spec_spells_them() {
        for (p, level, index, width) in [
            ("0/000", Some(0), 0, 256),
            ("0/001.p/88", Some(0), 1, 88),
            ("1/x001/234", Some(1), 1234, 256),
            ("entries/x001/x234/067.p/7", None, 1_234_067, 7),
        ] {
            let t = parse(p).unwrap_or_else(|e| panic!("{p}: {e}"));
            assert_eq!(
                t,
                TilePath {
                    level,
                    index,
                    width
                },
                "{p}"
            );
            assert_eq!(path(t), format!("tile/{p}"));
        }
    }

    #[test]
    fn rejects_malformed_paths_naming_the_part() {
        for (p, want) in [
            ("0/2", "three digits"),
            ("0/x002", "three digits"),
            ("0/001/002", "start with x"),
            ("64/000", "level"),
            ("00/000", "level"),
            ("+0/000", "level"),
            ("0/000.p/256", "width"),
            ("0/000.p/0", "width"),
            ("0/000.p/07", "width"),
            ("0/000.p/+4", "width"),
            ("0/x000/001", "leading zero"),
            ("0", "no tile index"),
            ("0/000.p/1/2", "nothing else"),
        ] {
            let e = parse(p).expect_err(p).to_string();
            assert!(e.contains(want), "{p}: {e}");
        }
    }

    #[test]
    fn bundles_split_and_refuse_truncation() {
        let b = [0u8, 2, b'h', b'i', 0, 1, b'!'];
        assert_eq!(
            parse_bundle(&b).expect("test"),
            vec![b"hi".to_vec(), b"!".to_vec()]
        );
        assert_eq!(parse_bundle(&b[..5]), Err(BundleError::TruncatedLength(1)));
        assert_eq!(
            parse_bundle(&b[..6]),
            Err(BundleError::TruncatedEntry {
                index: 1,
                len: 1,
                have: 0
            })
        );
        assert_eq!(parse_bundle(&b[..1]), Err(BundleError::TruncatedLength(0)));
        let mut big = vec![];
        for _ in 0..=TILE_WIDTH {
            push_bundle_entry(&mut big, b"x").expect("test");
        }
        assert_eq!(parse_bundle(&big), Err(BundleError::TooMany));
        assert_eq!(push_bundle_entry(&mut big, &[0; 65_536]), Err(65_536));
    }
}
