//! The analyst's workbench: the page a party's node serves at `/` and
//! `/workbench/...`, and its assets at `/assets/NAME`.
//!
//! Plain HTML, ES modules and CSS, with no build step, embedded in the
//! binary with `include_bytes!`: the node serves nothing from outside and
//! the page loads nothing from outside (its content security policy allows
//! only this node's own scripts, styles and connections, and no inline
//! script or style). Each asset carries a hash of its bytes, which the node
//! serves as its `ETag`, so a browser revalidates and never runs a stale
//! script after an upgrade.
//!
//! What the page does (see `assets/`):
//!
//! - `app.js`: the router (one URL per view, with the history API, so links
//!   and the back button work), the date control, the views;
//! - `verify.js`: verification in the browser: C2SP signed notes and
//!   `cosignature/v1` with Ed25519 (WebCrypto), RFC 9162 inclusion proofs
//!   computed from the log's C2SP tlog-tiles and checked against the signed
//!   root with SHA-256 (WebCrypto), and pinned keys;
//! - `chart.js`: SVG charts with axes, labels and values on hover;
//! - `api.js`: the node's queries, with the token kept in sessionStorage
//!   (never in the URL after load);
//! - `workbench.css`: readable from 390 px to wide screens.
#![forbid(unsafe_code)]

/// One asset of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// Its file name, as served under `/assets/`.
    pub name: &'static str,
    /// Its content type.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static [u8],
    /// A hash of its bytes (FNV-1a, 64 bits, hex): a cache validator, not a
    /// security measure.
    pub hash: &'static str,
}

/// FNV-1a over `bytes`, at compile time.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

/// The sixteen hex digits of a 64-bit number, at compile time.
const fn hex16(mut v: u64) -> [u8; 16] {
    let digits = b"0123456789abcdef";
    let mut out = [b'0'; 16];
    let mut i = 16;
    while i > 0 {
        i -= 1;
        out[i] = digits[(v & 0xf) as usize];
        v >>= 4;
    }
    out
}

macro_rules! assets {
    ($( $name:literal => $ctype:literal ),* $(,)?) => {
        /// Every asset, by name.
        pub const ASSETS: &[Asset] = &[
            $( Asset {
                name: $name,
                content_type: $ctype,
                body: include_bytes!(concat!("../assets/", $name)),
                hash: {
                    const H: [u8; 16] = hex16(fnv1a(include_bytes!(concat!("../assets/", $name))));
                    match std::str::from_utf8(&H) {
                        Ok(s) => s,
                        Err(_) => "0",
                    }
                },
            }, )*
        ];
    };
}

assets! {
    "app.js" => "text/javascript; charset=utf-8",
    "api.js" => "text/javascript; charset=utf-8",
    "verify.js" => "text/javascript; charset=utf-8",
    "chart.js" => "text/javascript; charset=utf-8",
    "format.js" => "text/javascript; charset=utf-8",
    "views.js" => "text/javascript; charset=utf-8",
    "workbench.css" => "text/css; charset=utf-8",
    "icon.svg" => "image/svg+xml",
}

/// The page: every view is this page, which shows the view its URL names.
pub const PAGE: &str = include_str!("../assets/index.html");

/// The asset called `name`.
pub fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_the_page_names_is_served_and_nothing_is_external() {
        for a in ASSETS {
            assert!(
                PAGE.contains(&format!("/assets/{}", a.name))
                    || ASSETS.iter().any(|b| {
                        std::str::from_utf8(b.body)
                            .is_ok_and(|t| t.contains(&format!("./{}", a.name)))
                    }),
                "{} is never used",
                a.name
            );
            assert_eq!(a.hash.len(), 16);
        }
        // No inline script or style, no external resource.
        for text in std::iter::once(PAGE).chain(
            ASSETS
                .iter()
                .filter_map(|a| std::str::from_utf8(a.body).ok()),
        ) {
            let rest = text.replace("http://www.w3.org/2000/svg", "");
            assert!(
                !rest.contains("http://") && !rest.contains("https://"),
                "an external URL"
            );
            assert!(!text.contains("style=\""), "an inline style attribute");
            assert!(
                !text.contains("innerHTML") && !text.contains("eval("),
                "markup or code from strings"
            );
        }
        for handler in [
            "onclick=",
            "onload=",
            "onerror=",
            "onsubmit=",
            "javascript:",
        ] {
            assert!(!PAGE.contains(handler), "an inline handler: {handler}");
        }
        assert!(!PAGE.contains("<script>"), "an inline script");
        assert!(!PAGE.contains("<style"), "an inline style");
    }

    #[test]
    fn hashes_differ_for_different_bytes() {
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
        assert_eq!(&hex16(0xdead_beef), b"00000000deadbeef");
    }
}
