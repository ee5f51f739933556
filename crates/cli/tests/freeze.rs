//! `accord freeze` as the issue specifies it.

mod common;
use common::*;

use std::path::Path;

fn write_records(dir: &Path, name: &str, n: usize, csv: bool) {
    let cats = [
        "deployed_strategic",
        "non_deployed_strategic",
        "non_strategic",
        "awaiting_dismantlement",
    ];
    let mut s = String::new();
    if csv {
        s.push_str("id,type,category,site\n");
    }
    for i in 0..n {
        if csv {
            s.push_str(&format!("W-{i:05},W76-1,{},SITE-{}\n", cats[i % 4], i % 5));
        } else {
            s.push_str(&format!("{{\"id\":\"W-{i:05}\",\"type\":\"W76-1\",\"category\":\"{}\",\"site\":\"SITE-{}\"}}\n", cats[i % 4], i % 5));
        }
    }
    std::fs::write(dir.join(name), s).expect("write");
}

#[test]
fn declare_verify_disclose_challenge() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    write_records(d, "r0.jsonl", 200, false);
    write_records(d, "r1.csv", 190, true);
    let o = accord(
        d,
        &[
            "freeze",
            "declare",
            "--party",
            "US",
            "--records",
            "r0.jsonl",
            "--cap",
            "200",
            "--out",
            "d0",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = |p: &str| {
            std::fs::metadata(d.join(p))
                .expect("meta")
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(m("d0/secret"), 0o700);
        assert_eq!(m("d0/secret/declaration.json"), 0o600);
    }
    let public = std::fs::read_to_string(d.join("d0/public.json")).expect("public");
    let secret = std::fs::read_to_string(d.join("d0/secret/declaration.json")).expect("secret");
    let salt = secret
        .split("\"salt\":\"")
        .nth(1)
        .and_then(|x| x.get(..64))
        .expect("a salt");
    assert!(
        !public.contains(salt) && !public.contains("W-00001"),
        "no secret in the public part"
    );
    assert!(!text(&o).contains(salt));
    assert_eq!(
        accord(d, &["freeze", "verify", "d0/public.json"])
            .status
            .code(),
        Some(0)
    );

    let o = accord(
        d,
        &[
            "freeze",
            "declare",
            "--party",
            "US",
            "--records",
            "r1.csv",
            "--cap",
            "200",
            "--out",
            "d1",
            "--baseline",
            "d0",
            "--date",
            "2021-08-01",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        accord(
            d,
            &[
                "freeze",
                "verify",
                "d1/public.json",
                "--baseline",
                "d0/public.json"
            ]
        )
        .status
        .code(),
        Some(0)
    );

    // Refusals: over the cap, or above the baseline.
    let o = accord(
        d,
        &[
            "freeze",
            "declare",
            "--party",
            "US",
            "--records",
            "r0.jsonl",
            "--cap",
            "199",
            "--out",
            "dx",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("exceeds the cap 199"));
    assert!(!d.join("dx").exists(), "nothing written when refused");
    let o = accord(
        d,
        &[
            "freeze",
            "declare",
            "--party",
            "US",
            "--records",
            "r0.jsonl",
            "--cap",
            "300",
            "--out",
            "dy",
            "--baseline",
            "d1",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    // A tampered public file fails, naming the proof.
    let tampered = public.replace("\"cap\": 200", "\"cap\": 150");
    std::fs::write(d.join("bad.json"), tampered).expect("write");
    let o = accord(d, &["freeze", "verify", "bad.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("cap proof"), "{}", text(&o));

    // Disclose and verify; a record altered in a disclosure fails.
    let verify_x = |file: &str| {
        accord(
            d,
            &[
                "freeze",
                "verify-disclosure",
                "d1/public.json",
                file,
                "--baseline",
                "d0/public.json",
            ],
        )
    };
    for what in [
        &["--site", "SITE-2"][..],
        &["--category", "non_strategic"],
        &["--site", "SITE-3", "--category", "deployed_strategic"],
        &["--id", "W-00007"],
    ] {
        let mut args = vec!["freeze", "disclose", "--secret", "d1/secret"];
        args.extend_from_slice(what);
        args.extend_from_slice(&["--out", "x.json"]);
        let o = accord(d, &args);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let o = verify_x("x.json");
        assert_eq!(o.status.code(), Some(0), "{what:?}: {}", text(&o));
        if what[0] != "--id" {
            assert!(
                text(&o).contains("proven to be every record"),
                "{}",
                text(&o)
            );
        }
    }
    // A freeze declaration is verified with its baseline before a disclosure is.
    let o = accord(
        d,
        &["freeze", "verify-disclosure", "d1/public.json", "x.json"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("give its baseline"), "{}", text(&o));
    let x = std::fs::read_to_string(d.join("x.json"))
        .expect("x")
        .replace("\"W76-1\"", "\"W88\"");
    std::fs::write(d.join("x2.json"), x).expect("write");
    assert_eq!(verify_x("x2.json").status.code(), Some(1));

    // A checkpoint-seeded challenge: the checkpoint must verify with the log's key.
    let signer = accord_log::Signer::from_seed("accord/freeze-2020/US", [3; 32]).expect("key");
    std::fs::write(d.join("log.vkey"), format!("{}\n", signer.verifier())).expect("write");
    let cp = accord_log::Checkpoint {
        origin: "accord/freeze-2020/US".into(),
        size: 12,
        hash: [9; 32],
        extensions: vec![],
    };
    std::fs::write(d.join("cp.txt"), signer.sign(&cp.to_text()).expect("signs")).expect("write");
    std::fs::write(
        d.join("forged.txt"),
        "accord/freeze-2020/US\n12\nAAAA\n\n— accord/freeze-2020/US x\n",
    )
    .expect("write");
    let o = accord(
        d,
        &[
            "freeze",
            "challenge",
            "d1/public.json",
            "--baseline",
            "d0/public.json",
            "--checkpoint",
            "forged.txt",
            "--log-key",
            "log.vkey",
            "--count",
            "3",
        ],
    );
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    let a = accord(
        d,
        &[
            "freeze",
            "challenge",
            "d1/public.json",
            "--baseline",
            "d0/public.json",
            "--checkpoint",
            "cp.txt",
            "--log-key",
            "log.vkey",
            "--count",
            "3",
            "--json",
        ],
    );
    let b = accord(
        d,
        &[
            "freeze",
            "challenge",
            "d1/public.json",
            "--baseline",
            "d0/public.json",
            "--checkpoint",
            "cp.txt",
            "--log-key",
            "log.vkey",
            "--count",
            "3",
            "--json",
        ],
    );
    assert_eq!(a.status.code(), Some(0), "{}", text(&a));
    assert_eq!(a.stdout, b.stdout, "anyone recomputes the same draw");
    let c: serde_json::Value = serde_json::from_slice(&a.stdout).expect("json");
    assert_eq!(c["sites"].as_array().map(Vec::len), Some(3));
    let o = accord(
        d,
        &[
            "freeze",
            "odds",
            "--population",
            "23",
            "--violations",
            "4",
            "--samples",
            "10",
            "--json",
        ],
    );
    let p: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    // 1 − C(19,10)/C(23,10) = 1 − 92378/1144066
    assert!((p["p_detect"].as_f64().expect("p") - (1.0 - 92378.0 / 1_144_066.0)).abs() < 1e-12);
}

#[test]
fn bad_records_exit_2() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    std::fs::write(
        d.join("dup.csv"),
        "id,type,category,site\nA,W88,deployed_strategic,S\nA,W88,non_strategic,T\n",
    )
    .expect("w");
    std::fs::write(
        d.join("cat.csv"),
        "id,type,category,site\nA,W88,strategic,S\n",
    )
    .expect("w");
    std::fs::write(
        d.join("hdr.csv"),
        "id,kind,category,site\nA,W88,non_strategic,S\n",
    )
    .expect("w");
    for (f, want) in [
        ("dup.csv", "duplicate identifier `A`"),
        ("cat.csv", "cat.csv:2: field `category`"),
        ("hdr.csv", "the header must be"),
    ] {
        let o = accord(
            d,
            &[
                "freeze",
                "declare",
                "--party",
                "US",
                "--records",
                f,
                "--cap",
                "10",
                "--out",
                "o",
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{f}");
        assert!(text(&o).contains(want), "{f}: {}", text(&o));
    }
}
