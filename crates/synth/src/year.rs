//! A year (or any span) of realistic notifications after a generated force.
//!
//! The year is made of operations, each a short sequence of notifications
//! about items no other operation touches meanwhile:
//!
//! - **swap** — a deployed missile is removed from its launcher, travels to
//!   storage, and a spare of the same type travels out and is emplaced with
//!   the same loading (6 notifications);
//! - **depot** — a deployed heavy bomber leaves deployment for depot
//!   maintenance and returns (6 notifications);
//! - **reload** — one deployed missile gains a reentry vehicle and another of
//!   the same loading band loses one (2 notifications);
//! - **retire** — a spare missile goes to the elimination facility and is
//!   eliminated, and a newly produced one enters accountability at storage
//!   (4 notifications).
//!
//! Items in an operation are held out of every pool until the day after its
//! last step is sent, so operations never interleave on one item, neither by
//! date nor by number (a registry takes notifications in number order, a
//! batch at a time, and each batch must fold cleanly by date); a generated year
//! that raised any finding would be a bug, and tests check that none does. Data exchanges as of each 1 March and 1 September in the
//! span carry the item-level numbers of that date. Notifications are
//! numbered in the order sent; each is sent within the deadline unless chosen
//! to be late.

use crate::{SynthError, Template};
use accord_registry::{compliance, Event, Location, Notification, State};
use accord_treaty::{Role, Status, Treaty};
use chrono::{Days, NaiveDate};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::{BTreeMap, HashMap};

/// Options for a span of notifications.
#[derive(Debug, Clone, Copy)]
pub struct YearOptions {
    /// Days after the force's date to cover.
    pub days: u32,
    /// About how many change notifications to make (data exchanges extra).
    pub notifications: usize,
    /// How many to send after their deadline (findings on purpose): at most
    /// this many, where sending late reorders no item's notifications.
    pub late: usize,
    /// Seed.
    pub seed: u64,
}

impl Default for YearOptions {
    /// One year of about 900 change notifications, none late: New START's
    /// first year saw about 1,800 notifications from both parties together
    /// (https://www.airandspaceforces.com/newstartplusoneandcounting/).
    fn default() -> Self {
        YearOptions {
            days: 365,
            notifications: 900,
            late: 0,
            seed: 1,
        }
    }
}

#[derive(Debug, Clone)]
struct Deployed {
    missile: String,
    launcher: String,
    rv: u32,
    facility: String,
    ty: String,
    band: (u32, u32),
}

/// One step of an operation, before numbering.
struct Step {
    gen: usize,
    /// The operation it belongs to.
    op: usize,
    last_of_op: bool,
    n: Notification,
}

enum Release {
    Missile(Deployed),
    Spare(String, String),
    Bomber(String, String),
}

/// Generates notifications after `force` (its initial notifications) for
/// `opts.days` days. Returns them numbered after the force's last number.
pub fn year_of_notifications(
    treaty: &Treaty,
    template: &Template,
    force: &[Notification],
    opts: YearOptions,
) -> Result<Vec<Notification>, SynthError> {
    let party = template.party.clone();
    let start = force
        .iter()
        .map(|n| n.date)
        .max()
        .ok_or_else(|| SynthError::Template("empty force".into()))?;
    let first_number = force.iter().map(|n| n.number).max().unwrap_or(0) + 1;
    let mut state = State::new(treaty, &party);
    let mut sorted: Vec<&Notification> = force.iter().collect();
    sorted.sort_by_key(|n| n.fold_key());
    for n in sorted {
        if let Some(f) = state.apply(n) {
            return Err(SynthError::Template(format!(
                "the force itself has a finding: {}",
                f.message
            )));
        }
    }
    let mut rng = ChaCha20Rng::seed_from_u64(opts.seed ^ 0x5eed_7ea7);

    // Pools of items free for a new operation.
    let band_of = |facility: &str, ty: &str| -> (u32, u32) {
        template
            .groups
            .iter()
            .find(|g| g.facility == facility && g.missile_type.as_deref() == Some(ty))
            .and_then(|g| g.reentry_vehicles)
            .map_or(
                (
                    1,
                    treaty
                        .item_type(ty)
                        .and_then(|t| t.max_reentry_vehicles)
                        .unwrap_or(1),
                ),
                |[a, b]| (a, b),
            )
    };
    let mut deployed: Vec<Deployed> = vec![];
    let mut spares: HashMap<String, Vec<String>> = HashMap::new();
    let mut bombers: Vec<(String, String)> = vec![];
    for it in state.items() {
        let Location::At(fi) = it.location else {
            continue;
        };
        let facility = state.facility(fi).id.to_string();
        let role = treaty.item_kind(state.kind_id(it)).map(|k| k.role);
        match (role, it.status) {
            (Some(Role::Missile), Status::Deployed) => {
                let launcher = it
                    .launcher
                    .map(|l| state.item_id(l).to_string())
                    .unwrap_or_default();
                deployed.push(Deployed {
                    missile: it.id.to_string(),
                    launcher,
                    rv: it.reentry_vehicles,
                    band: band_of(&facility, &it.item_type),
                    facility,
                    ty: it.item_type.to_string(),
                });
            }
            (Some(Role::Missile), Status::NonDeployed)
                if template.maintenance.missile_storage.get(&*it.item_type) == Some(&facility) =>
            {
                spares
                    .entry(it.item_type.to_string())
                    .or_default()
                    .push(it.id.to_string());
            }
            (Some(Role::HeavyBomber), Status::Deployed) => {
                bombers.push((it.id.to_string(), facility))
            }
            _ => {}
        }
    }

    let dense = opts.notifications as u64 > u64::from(opts.days) * 20;
    let gap =
        |rng: &mut ChaCha20Rng, lo: u64, hi: u64| if dense { 0 } else { rng.gen_range(lo..=hi) };
    let mut releases: BTreeMap<u32, Vec<Release>> = BTreeMap::new();
    let mut steps: Vec<Step> = vec![];
    let mut gen = 0usize;
    let mut ops = 0usize;
    let mut produced = 0u32;
    let per_day = opts.notifications as f64 / f64::from(opts.days.max(1));
    let mut owed = 0.0f64;

    for day in 1..=opts.days {
        let today = start + Days::new(u64::from(day));
        let due: Vec<u32> = releases.range(..=day).map(|(d, _)| *d).collect();
        for d in due {
            for r in releases.remove(&d).unwrap_or_default() {
                match r {
                    Release::Missile(x) => deployed.push(x),
                    Release::Spare(ty, id) => spares.entry(ty).or_default().push(id),
                    Release::Bomber(id, f) => bombers.push((id, f)),
                }
            }
        }
        owed += per_day;
        let mut stalls = 0;
        while owed >= 1.0 && stalls < 8 {
            let mut op: Vec<(NaiveDate, Event)> = vec![];
            let mut release: Vec<(u32, Release)> = vec![];
            let pick = rng.gen_range(0..100u32);
            if pick < 45 && !deployed.is_empty() {
                // swap
                let i = rng.gen_range(0..deployed.len());
                let ty = deployed[i].ty.clone();
                let storage = template.maintenance.missile_storage.get(&ty).cloned();
                let spare_pool = spares.get_mut(&ty).filter(|s| !s.is_empty());
                if let (Some(storage), Some(pool)) = (storage, spare_pool) {
                    let j = rng.gen_range(0..pool.len());
                    let spare = pool.swap_remove(j);
                    let d = deployed.swap_remove(i);
                    let t1 = gap(&mut rng, 1, 3);
                    let t2 = t1 + gap(&mut rng, 0, 2);
                    let t3 = t2 + gap(&mut rng, 1, 3);
                    let at = |o: u64| today + Days::new(o);
                    op.push((
                        at(0),
                        Event::RemovalFromDeployment {
                            item: d.missile.clone(),
                        },
                    ));
                    op.push((
                        at(0),
                        Event::Departure {
                            item: d.missile.clone(),
                            facility: d.facility.clone(),
                        },
                    ));
                    op.push((
                        at(t1),
                        Event::Arrival {
                            item: d.missile.clone(),
                            facility: storage.clone(),
                        },
                    ));
                    op.push((
                        at(t2),
                        Event::Departure {
                            item: spare.clone(),
                            facility: storage.clone(),
                        },
                    ));
                    op.push((
                        at(t3),
                        Event::Arrival {
                            item: spare.clone(),
                            facility: d.facility.clone(),
                        },
                    ));
                    op.push((
                        at(t3),
                        Event::Deployment {
                            item: spare.clone(),
                            launcher: Some(d.launcher.clone()),
                            reentry_vehicles: Some(d.rv),
                        },
                    ));
                    let back = day + t3 as u32 + 1;
                    release.push((back, Release::Spare(ty.clone(), d.missile.clone())));
                    release.push((
                        back,
                        Release::Missile(Deployed {
                            missile: spare,
                            ..d
                        }),
                    ));
                }
            } else if pick < 60 && !bombers.is_empty() {
                // depot
                let i = rng.gen_range(0..bombers.len());
                let (b, f) = bombers.swap_remove(i);
                let depot = template.maintenance.bomber_depot.clone();
                let t1 = gap(&mut rng, 1, 2);
                let t2 = t1 + gap(&mut rng, 10, 40);
                let t3 = t2 + gap(&mut rng, 1, 2);
                let at = |o: u64| today + Days::new(o);
                op.push((at(0), Event::RemovalFromDeployment { item: b.clone() }));
                op.push((
                    at(0),
                    Event::Departure {
                        item: b.clone(),
                        facility: f.clone(),
                    },
                ));
                op.push((
                    at(t1),
                    Event::Arrival {
                        item: b.clone(),
                        facility: depot.clone(),
                    },
                ));
                op.push((
                    at(t2),
                    Event::Departure {
                        item: b.clone(),
                        facility: depot,
                    },
                ));
                op.push((
                    at(t3),
                    Event::Arrival {
                        item: b.clone(),
                        facility: f.clone(),
                    },
                ));
                op.push((
                    at(t3),
                    Event::Deployment {
                        item: b.clone(),
                        launcher: None,
                        reentry_vehicles: None,
                    },
                ));
                release.push((day + t3 as u32 + 1, Release::Bomber(b, f)));
            } else if pick < 97 && deployed.len() >= 2 {
                // reload: +1 on one, −1 on another with the same band
                let i = rng.gen_range(0..deployed.len());
                let band = deployed[i].band;
                if deployed[i].rv < band.1 {
                    let others: Vec<usize> = (0..deployed.len())
                        .filter(|&j| j != i && deployed[j].band == band && deployed[j].rv > band.0)
                        .take(64)
                        .collect();
                    if let Some(&j) = others.choose(&mut rng) {
                        let (hi, lo) = if i > j { (i, j) } else { (j, i) };
                        let mut a = deployed.swap_remove(hi);
                        let mut b = deployed.swap_remove(lo);
                        if hi != i {
                            std::mem::swap(&mut a, &mut b);
                        }
                        // a is the one gaining, b the one losing.
                        a.rv += 1;
                        b.rv -= 1;
                        op.push((
                            today,
                            Event::ReentryVehicleChange {
                                item: a.missile.clone(),
                                reentry_vehicles: a.rv,
                            },
                        ));
                        op.push((
                            today,
                            Event::ReentryVehicleChange {
                                item: b.missile.clone(),
                                reentry_vehicles: b.rv,
                            },
                        ));
                        release.push((day + 1, Release::Missile(a)));
                        release.push((day + 1, Release::Missile(b)));
                    }
                }
            } else if let Some((ty, pool)) = spares
                .iter_mut()
                .filter(|(_, p)| !p.is_empty())
                .min_by_key(|(t, _)| (*t).clone())
            {
                // retire one spare, produce a replacement
                let j = rng.gen_range(0..pool.len());
                let old = pool.swap_remove(j);
                let ty = ty.clone();
                let storage = template
                    .maintenance
                    .missile_storage
                    .get(&ty)
                    .cloned()
                    .unwrap_or_default();
                let elim = template.maintenance.elimination.clone();
                let t1 = gap(&mut rng, 2, 5);
                let at = |o: u64| today + Days::new(o);
                produced += 1;
                let new = format!("{}-NEW-{produced:05}", template.code);
                let kind = treaty
                    .item_type(&ty)
                    .map(|t| t.kind.clone())
                    .unwrap_or_default();
                op.push((
                    at(0),
                    Event::Departure {
                        item: old.clone(),
                        facility: storage.clone(),
                    },
                ));
                op.push((
                    at(t1),
                    Event::Arrival {
                        item: old.clone(),
                        facility: elim,
                    },
                ));
                op.push((at(t1), Event::Elimination { item: old }));
                op.push((
                    at(t1),
                    Event::AccountabilityEntry {
                        item: new.clone(),
                        item_kind: kind,
                        item_type: ty.clone(),
                        facility: storage,
                        status: Status::NonDeployed,
                        launcher: None,
                        reentry_vehicles: None,
                    },
                ));
                release.push((day + t1 as u32 + 1, Release::Spare(ty, new)));
            }
            if op.is_empty() {
                stalls += 1;
                continue;
            }
            stalls = 0;
            let len = op.len();
            let mut sent = today;
            for (k, (date, event)) in op.into_iter().enumerate() {
                let s = (date + Days::new(rng.gen_range(0..=3))).max(sent);
                sent = s;
                steps.push(Step {
                    gen,
                    op: ops,
                    last_of_op: k + 1 == len,
                    n: Notification {
                        party: party.clone(),
                        number: 0,
                        date,
                        sent: s,
                        event,
                    },
                });
                gen += 1;
            }
            ops += 1;
            owed -= len as f64;
            // Free again the day after the last of its notifications is
            // *sent*, not only the day after the last event: the registry
            // takes notifications in number (sent) order, so an operation
            // that began on an item while an earlier one's notifications
            // about it were still unsent would be refused at a batch boundary
            // (a removal from deployment of an item not yet declared deployed).
            let sent_day = u32::try_from((sent - start).num_days()).unwrap_or(u32::MAX);
            for (d, r) in release {
                releases
                    .entry(d.max(sent_day.saturating_add(1)))
                    .or_default()
                    .push(r);
            }
        }
    }
    let end = start + Days::new(u64::from(opts.days));
    // Operations still under way at the end of the span are left out whole
    // (a departure with no arrival would be a missing notification).
    let mut last_day: HashMap<usize, NaiveDate> = HashMap::new();
    for st in &steps {
        let e = last_day.entry(st.op).or_insert(st.n.date);
        *e = (*e).max(st.n.date);
    }
    steps.retain(|s| last_day.get(&s.op).is_some_and(|d| *d <= end));

    // Late on purpose: the last step of some operations (nothing of that
    // operation comes after it), and only where no later operation's
    // notification about the same items is sent before it: sent later, it is
    // numbered later, and a registry taking them in number order must still
    // see each item's notifications in the order of their dates.
    let mut touching: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, st) in steps.iter().enumerate() {
        for name in names(&st.n.event) {
            touching.entry(name).or_default().push(i);
        }
    }
    let mut candidates: Vec<usize> = (0..steps.len())
        .filter(|&i| steps[i].last_of_op && matches!(steps[i].n.event, Event::Deployment { .. }))
        .collect();
    candidates.shuffle(&mut rng);
    let mut late: Vec<(usize, NaiveDate)> = vec![];
    for &i in &candidates {
        if late.len() == opts.late {
            break;
        }
        let n = &steps[i].n;
        let sent = n.date
            + Days::new(u64::from(treaty.notifications.deadline_days) + rng.gen_range(3..=9));
        let clear = names(&n.event).into_iter().all(|name| {
            touching.get(name).is_none_or(|js| {
                js.iter()
                    .filter(|&&j| steps[j].gen > steps[i].gen)
                    .all(|&j| steps[j].n.sent >= sent)
            })
        });
        if clear {
            late.push((i, sent));
        }
    }
    drop(touching);
    for (i, sent) in late {
        steps[i].n.sent = sent;
    }

    // Numbering in the order sent, then the data exchanges of the span.
    steps.sort_by_key(|s| (s.n.sent, s.gen));
    let mut out: Vec<Notification> = steps.into_iter().map(|s| s.n).collect();
    for (k, n) in out.iter_mut().enumerate() {
        n.number = first_number + k as u64;
    }
    let as_ofs: Vec<NaiveDate> = treaty
        .data_exchange_schedule()
        .into_iter()
        .map(|(a, _)| a)
        .filter(|&a| a > start && a <= end)
        .collect();
    if !as_ofs.is_empty() {
        let mut all: Vec<Notification> = force.to_vec();
        all.extend(out.iter().cloned());
        let reports = compliance::evaluate(treaty, &party, &all, &as_ofs, true);
        // The Part Two categories by facility on each as-of date.
        let mut sorted: Vec<&Notification> = all.iter().collect();
        sorted.sort_by_key(|n| n.fold_key());
        let mut st = State::new(treaty, &party);
        let mut idx = 0;
        let mut by_facility = vec![];
        for &as_of in &as_ofs {
            while idx < sorted.len() && sorted[idx].date <= as_of {
                let _ = st.apply(sorted[idx]);
                idx += 1;
            }
            by_facility.push(st.by_facility());
        }
        let first_gen = out.len();
        let mut keyed: Vec<(NaiveDate, usize, Notification)> = out
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n.sent, i, n))
            .collect();
        for ((gen2, r), facilities) in (first_gen..).zip(reports).zip(by_facility) {
            let due = treaty.data_exchange_due(r.date).unwrap_or(r.date);
            let span = (due - r.date).num_days().max(1) as u64;
            let sent = r.date + Days::new(rng.gen_range(span / 4..=span * 3 / 4));
            let counts = treaty
                .limits
                .iter()
                .filter(|l| l.max.fixed().is_some())
                .map(|l| (l.id.clone(), r.aggregates.get(&l.id).copied().unwrap_or(0)))
                .collect();
            keyed.push((
                sent,
                gen2,
                Notification {
                    party: party.clone(),
                    number: 0,
                    date: r.date,
                    sent,
                    event: Event::DataExchange { counts, facilities },
                },
            ));
        }
        keyed.sort_by_key(|(s, g, _)| (*s, *g));
        out = keyed.into_iter().map(|(_, _, n)| n).collect();
        for (k, n) in out.iter_mut().enumerate() {
            n.number = first_number + k as u64;
        }
    }
    Ok(out)
}

/// The items a generated notification is about (the item, and the launcher
/// it is deployed into or enters in).
fn names(e: &Event) -> Vec<&str> {
    match e {
        Event::Deployment { item, launcher, .. }
        | Event::AccountabilityEntry { item, launcher, .. } => std::iter::once(item.as_str())
            .chain(launcher.as_deref())
            .collect(),
        Event::RemovalFromDeployment { item }
        | Event::Departure { item, .. }
        | Event::Arrival { item, .. }
        | Event::ReentryVehicleChange { item, .. }
        | Event::Elimination { item } => vec![item.as_str()],
        _ => vec![],
    }
}
