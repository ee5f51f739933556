//! Builders for hand-made registries.
#![allow(dead_code, missing_docs, unreachable_pub)]

use accord_registry::{ConvertedTo, Event, Notification};
use accord_treaty::{FacilityKind, Status, Treaty};
use chrono::NaiveDate;

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

pub fn treaty() -> Treaty {
    Treaty::load("new-start-2021").expect("built-in treaty")
}

/// Builds a party's notifications with increasing numbers, sent on the day.
pub struct B {
    pub party: String,
    pub next: u64,
    pub date: NaiveDate,
    pub out: Vec<Notification>,
}

impl B {
    pub fn new(party: &str, date: NaiveDate) -> B {
        B {
            party: party.into(),
            next: 1,
            date,
            out: vec![],
        }
    }
    pub fn on(&mut self, date: NaiveDate) -> &mut Self {
        self.date = date;
        self
    }
    pub fn push(&mut self, event: Event) -> &mut Self {
        let n = Notification {
            party: self.party.clone(),
            number: self.next,
            date: self.date,
            sent: self.date,
            event,
        };
        self.next += 1;
        self.out.push(n);
        self
    }
    pub fn sent_late(&mut self, days: u64) -> &mut Self {
        if let Some(n) = self.out.last_mut() {
            n.sent = n.date + chrono::Days::new(days);
        }
        self
    }
    pub fn facility(&mut self, id: &str, kind: FacilityKind) -> &mut Self {
        self.push(Event::FacilityDeclared {
            facility: id.into(),
            facility_kind: kind,
            name: id.into(),
        })
    }
    pub fn entry(
        &mut self,
        item: &str,
        kind: &str,
        ty: &str,
        fac: &str,
        status: Status,
    ) -> &mut Self {
        self.push(Event::AccountabilityEntry {
            item: item.into(),
            item_kind: kind.into(),
            item_type: ty.into(),
            facility: fac.into(),
            status,
            launcher: None,
            reentry_vehicles: None,
        })
    }
    pub fn deploy(&mut self, item: &str, launcher: Option<&str>, rv: Option<u32>) -> &mut Self {
        self.push(Event::Deployment {
            item: item.into(),
            launcher: launcher.map(Into::into),
            reentry_vehicles: rv,
        })
    }
    pub fn remove(&mut self, item: &str) -> &mut Self {
        self.push(Event::RemovalFromDeployment { item: item.into() })
    }
    pub fn depart(&mut self, item: &str, fac: &str) -> &mut Self {
        self.push(Event::Departure {
            item: item.into(),
            facility: fac.into(),
        })
    }
    pub fn arrive(&mut self, item: &str, fac: &str) -> &mut Self {
        self.push(Event::Arrival {
            item: item.into(),
            facility: fac.into(),
        })
    }
    pub fn eliminate(&mut self, item: &str) -> &mut Self {
        self.push(Event::Elimination { item: item.into() })
    }
    pub fn convert(&mut self, item: &str, to: ConvertedTo) -> &mut Self {
        self.push(Event::Conversion {
            item: item.into(),
            to,
        })
    }
    pub fn rv(&mut self, item: &str, rv: u32) -> &mut Self {
        self.push(Event::ReentryVehicleChange {
            item: item.into(),
            reentry_vehicles: rv,
        })
    }
    pub fn exchange(&mut self, ddv: u64, dw: u64, l: u64) -> &mut Self {
        self.push(Event::DataExchange {
            counts: [
                ("deployed_delivery_vehicles".to_string(), ddv),
                ("deployed_warheads".to_string(), dw),
                ("deployed_and_nondeployed_launchers".to_string(), l),
            ]
            .into_iter()
            .collect(),
            facilities: Default::default(),
        })
    }
    /// A data exchange with Part Two categories by facility as well.
    pub fn exchange_by_facility(
        &mut self,
        ddv: u64,
        dw: u64,
        l: u64,
        facilities: &[(&str, &[(&str, u64)])],
    ) -> &mut Self {
        self.push(Event::DataExchange {
            counts: [
                ("deployed_delivery_vehicles".to_string(), ddv),
                ("deployed_warheads".to_string(), dw),
                ("deployed_and_nondeployed_launchers".to_string(), l),
            ]
            .into_iter()
            .collect(),
            facilities: facilities
                .iter()
                .map(|(f, cats)| {
                    (
                        f.to_string(),
                        cats.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
                    )
                })
                .collect(),
        })
    }
    /// Pushes any event (for the Protocol's notification types).
    pub fn event(&mut self, event: Event) -> &mut Self {
        self.push(event)
    }

    /// A small US force: 2 silos at one base with 2 Minuteman III (one
    /// deployed with 1 RV), 2 tubes with 1 Trident deployed with 4 RVs, bombers.
    pub fn small_us() -> B {
        let mut b = B::new("US", d(2020, 9, 1));
        b.facility("MAL", FacilityKind::IcbmBase)
            .facility("KB", FacilityKind::SubmarineBase)
            .facility("WHI", FacilityKind::AirBase)
            .facility("HILL", FacilityKind::Storage)
            .facility("DM", FacilityKind::ConversionElimination)
            .entry(
                "S1",
                "icbm_launcher",
                "minuteman-iii-silo",
                "MAL",
                Status::NonDeployed,
            )
            .entry(
                "S2",
                "icbm_launcher",
                "minuteman-iii-silo",
                "MAL",
                Status::NonDeployed,
            )
            .entry("M1", "icbm", "minuteman-iii", "MAL", Status::NonDeployed)
            .entry("M2", "icbm", "minuteman-iii", "MAL", Status::NonDeployed)
            .deploy("M1", Some("S1"), Some(1))
            .entry(
                "T1",
                "slbm_launcher",
                "ohio-tube",
                "KB",
                Status::NonDeployed,
            )
            .entry(
                "T2",
                "slbm_launcher",
                "ohio-tube",
                "KB",
                Status::NonDeployed,
            )
            .entry("D1", "slbm", "trident-ii-d5", "KB", Status::NonDeployed)
            .deploy("D1", Some("T1"), Some(4))
            .entry("B1", "heavy_bomber", "b-2a", "WHI", Status::NonDeployed)
            .deploy("B1", None, None)
            .entry("B2", "heavy_bomber", "b-52h", "WHI", Status::NonDeployed)
            .entry("B3", "heavy_bomber", "b-52h", "WHI", Status::Test)
            .entry("B4", "heavy_bomber", "b-52h", "WHI", Status::Converted)
            .entry(
                "TL",
                "icbm_launcher",
                "minuteman-iii-silo",
                "MAL",
                Status::Test,
            );
        b
    }
}
