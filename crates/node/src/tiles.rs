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

use accord_log::merkle::{Hash, NodeSource};
use accord_log::LogStore;

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

/// Parses the part of a tile path after `tile/`. Errors say what is wrong.
pub fn parse(rest: &str) -> Result<TilePath, String> {
    let mut parts = rest.split('/');
    let first = parts.next().unwrap_or_default();
    let level = if first == "entries" {
        None
    } else {
        let l: u8 = first
            .parse()
            .ok()
            .filter(|l| *l <= 63 && (first == "0" || !first.starts_with('0')))
            .ok_or_else(|| format!("level `{first}`: expected 0 to 63 or `entries`"))?;
        Some(l)
    };
    let segs: Vec<&str> = parts.collect();
    if segs.is_empty() {
        return Err("no tile index".into());
    }
    // A partial tile ends in `NNN.p/W`.
    let (index_segs, width) = match segs.iter().position(|s| s.ends_with(".p")) {
        Some(p) if p + 2 == segs.len() => {
            let w = segs[p + 1];
            let width: u64 = w
                .parse()
                .ok()
                .filter(|n| (1..TILE_WIDTH).contains(n) && !w.starts_with('0'))
                .ok_or_else(|| format!("partial width `{w}`: expected 1 to 255"))?;
            (&segs[..=p], width)
        }
        Some(_) => return Err("`.p` must be followed by the width and nothing else".into()),
        None => (&segs[..], TILE_WIDTH),
    };
    let mut index: u64 = 0;
    for (k, seg) in index_segs.iter().enumerate() {
        let last = k + 1 == index_segs.len();
        let digits = if last {
            seg.strip_suffix(".p").unwrap_or(seg)
        } else {
            seg.strip_prefix('x')
                .ok_or_else(|| format!("index element `{seg}`: all but the last start with x"))?
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("index element `{seg}`: expected three digits"));
        }
        let d: u64 = digits
            .parse()
            .map_err(|_| format!("index element `{seg}`"))?;
        index = index
            .checked_mul(1000)
            .and_then(|i| i.checked_add(d))
            .ok_or("the tile index overflows")?;
    }
    if index_segs.len() > 1 && index_segs[0] == "x000" {
        return Err("the tile index has a leading zero element".into());
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

/// Why a tile cannot be served.
#[derive(Debug)]
pub enum TileError {
    /// The log is not big enough for it (yet): 404.
    NotYet,
    /// Reading the store failed.
    Store(String),
}

/// The bytes of a tile of `log` at its current size.
pub fn read(log: &LogStore, t: TilePath) -> Result<Vec<u8>, TileError> {
    let height = 8 * u32::from(t.level.unwrap_or(0));
    let complete = if height >= 64 {
        0
    } else {
        log.size() >> height
    };
    let start = t.index.checked_mul(TILE_WIDTH).ok_or(TileError::NotYet)?;
    if complete < start.saturating_add(t.width) {
        return Err(TileError::NotYet);
    }
    let mut out = vec![];
    for i in start..start + t.width {
        match t.level {
            Some(_) => {
                let h: Hash = log
                    .node(height, i)
                    .map_err(|e| TileError::Store(e.to_string()))?;
                out.extend_from_slice(&h);
            }
            None => {
                let e = log.entry(i).map_err(|e| TileError::Store(e.to_string()))?;
                let len = u16::try_from(e.len())
                    .map_err(|_| TileError::Store(format!("entry {i} exceeds 65,535 bytes")))?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(&e);
            }
        }
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
            ("0/000.p/256", "width"),
            ("0/000.p/0", "width"),
            ("0/000.p/07", "width"),
            ("0/x000/001", "leading zero"),
            ("0", "no tile index"),
            ("0/000.p/1/2", "nothing else"),
        ] {
            let e = parse(p).expect_err(p);
            assert!(e.contains(want), "{p}: {e}");
        }
    }
}
