//! The demo's draws: every inspection year and freeze round draws its sites
//! with `accord-draw`'s protocol (the checking party commits in its log, the
//! checked party fixes the population in its log, the checking party
//! reveals; a neutral witness cosigns each step), and leaves the transcript
//! in `accord-demo/` with the keys that verify it under `accord-demo/keys/`.

use crate::keys;
use accord_draw::{Clock, Population, Purpose, Side, Transcript, VerifiedDraw};
use accord_regime::feed::PartyLog;
use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

/// The neutral witness's name (and its key's).
pub(crate) const WITNESS: &str = "accord/new-start-2021/witness";

/// The neutral witness both parties' logs are cosigned by for draws, and
/// where the verifier keys are.
pub(crate) struct Neutral {
    witness: accord_log::Witness,
    out: PathBuf,
    /// The secrets' randomness: seeded, so a demo run is reproducible (a
    /// node draws its secret from the operating system).
    rng: rand_chacha::ChaCha20Rng,
    /// `--vkey` paths by log origin, and the witness's.
    vkeys: Vec<(String, PathBuf)>,
    witness_vkey: PathBuf,
}

/// A draw made: its verification, and where its transcript is.
pub(crate) struct Made {
    pub(crate) draw: VerifiedDraw,
    pub(crate) transcript: Transcript,
    pub(crate) path: PathBuf,
}

impl Made {
    /// The narrative lines: what was committed, when the witness cosigned,
    /// and the command that verifies the transcript.
    pub(crate) fn tell(&self, n: &Neutral, say: &dyn Fn(&str)) {
        let t = &self.transcript;
        let p = self.draw.purpose();
        say(&format!(
            "     draw {}: {} committed to a fresh secret (SHA-256 commitment {}…) at its log index {}, cosigned by the neutral witness {};",
            p.draw,
            p.checking.party,
            t.commitment_entry.entry.commitment.get(..16).unwrap_or(""),
            t.commitment_entry.index,
            accord_draw::transcript::utc(self.draw.commitment_cosigned_at()),
        ));
        let size = match t.population_entry.entry.items {
            0 => format!("{} sites", t.population_entry.entry.sites),
            n => format!("{} sites, {n} items", t.population_entry.entry.sites),
        };
        say(&format!(
            "       then {} fixed the population ({size}) at its log index {}, cosigned {}; {} revealed, cosigned {}; seed {}…",
            p.checked.party,
            t.population_entry.index,
            accord_draw::transcript::utc(self.draw.population_cosigned_at()),
            p.checking.party,
            accord_draw::transcript::utc(self.draw.revealed_at()),
            self.draw.seed().get(..16).unwrap_or(""),
        ));
        say(&format!("       {}", n.verify_command(self)));
    }

    /// JSON for the demo's summary.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::json!({"transcript": self.path, "verified": self.draw})
    }
}

/// Unix seconds at midnight UTC of `day`.
pub(crate) fn unix(day: NaiveDate) -> u64 {
    day.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp().max(0) as u64)
}

impl Neutral {
    /// The neutral witness in `out/witness/`, following both parties' logs;
    /// its verifier key in `out/keys/` beside the parties'.
    pub(crate) fn open(out: &Path, seed: u64, logs: &[PartyLog]) -> Result<Neutral> {
        use rand::SeedableRng;
        let keydir = out.join("keys");
        let (_, witness_vkey, signer) = keys::demo_key(WITNESS, &keydir, seed)?;
        let dir = out.join("witness");
        std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
        let witness = accord_log::Witness::open(&dir.join("witness.sqlite"), signer)?;
        let mut vkeys = vec![];
        for l in logs {
            let origin = l.store.origin().to_string();
            witness.add_log(&origin, &l.signer.verifier())?;
            let vkey = keydir.join(format!("{}.vkey", accord_log::keys::key_stem(&origin)));
            if !vkey.exists() {
                bail!("{}: the party's verifier key is missing", vkey.display());
            }
            vkeys.push((origin, vkey));
        }
        Ok(Neutral {
            witness,
            out: out.to_path_buf(),
            rng: rand_chacha::ChaCha20Rng::seed_from_u64(seed ^ 0xD4A3),
            vkeys,
            witness_vkey,
        })
    }

    /// `accord draw verify … --vkey … --vkey … --vkey …` for a draw.
    pub(crate) fn verify_command(&self, m: &Made) -> String {
        let p = m.draw.purpose();
        let key = |origin: &str| {
            self.vkeys
                .iter()
                .find(|(o, _)| o == origin)
                .map_or_else(String::new, |(_, v)| v.display().to_string())
        };
        format!(
            "verify: accord draw verify {} --vkey {} --vkey {} --vkey {}",
            m.path.display(),
            key(&p.checking.log),
            key(&p.checked.log),
            self.witness_vkey.display()
        )
    }

    /// Runs the protocol between `logs[checking]` and `logs[checked]` at
    /// `t` (the commitment), `t + 60` (the population) and `t + 120` (the
    /// reveal), and writes `out/<name>-transcript.json`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn draw(
        &mut self,
        logs: &mut [PartyLog],
        checking: usize,
        checked: usize,
        purpose: Purpose,
        population: Population,
        subject: Option<String>,
        t: u64,
        name: &str,
    ) -> Result<Made> {
        let (a, b) = pair(logs, checking, checked)?;
        let (transcript, draw) = accord_draw::honest_draw(
            purpose,
            population,
            subject,
            Side {
                log: &mut a.store,
                signer: &a.signer,
            },
            Side {
                log: &mut b.store,
                signer: &b.signer,
            },
            &mut self.witness,
            Clock::starting(t),
            &mut self.rng,
        )
        .with_context(|| format!("draw {name}"))?;
        let path = self.out.join(format!("{name}-transcript.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&transcript)?)
            .with_context(|| path.display().to_string())?;
        Ok(Made {
            draw,
            transcript,
            path,
        })
    }
}

/// Two distinct parties' logs, mutably.
fn pair(logs: &mut [PartyLog], i: usize, j: usize) -> Result<(&mut PartyLog, &mut PartyLog)> {
    if i == j || i.max(j) >= logs.len() {
        bail!("a draw needs two distinct parties' logs ({i}, {j})");
    }
    if i < j {
        let (x, y) = logs.split_at_mut(j);
        Ok((&mut x[i], &mut y[0]))
    } else {
        let (x, y) = logs.split_at_mut(i);
        Ok((&mut y[0], &mut x[j]))
    }
}

/// The party's log origin as the protocol names it.
pub(crate) fn party_log(party: &str, logs: &[PartyLog], i: usize) -> Result<accord_draw::PartyLog> {
    let l = logs.get(i).context("party log")?;
    Ok(accord_draw::PartyLog {
        party: party.to_string(),
        log: l.store.origin().to_string(),
    })
}
