//! Reading, merging and validating treaty files.
//!
//! A file may say `based_on = "NAME"`: it is then read on top of that treaty.
//! Its `[treaty]` table replaces the base's; `extensions`, `item_kinds`,
//! `item_types`, `limits` and `inspections` are added to the base's (an entry
//! with the same `id` replaces the base's); `parties`, `[extension]`,
//! `[data_exchanges]` and `[notifications]` replace the base's when given.

use crate::file::*;
use crate::model::*;
use chrono::NaiveDate;
use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The treaties shipped with accord, by name.
const BUILTIN: &[(&str, &str)] = &[
    (
        "new-start",
        include_str!("../../../treaties/new-start.toml"),
    ),
    (
        "new-start-2021",
        include_str!("../../../treaties/new-start-2021.toml"),
    ),
    (
        "freeze-2020",
        include_str!("../../../treaties/freeze-2020.toml"),
    ),
    (
        "trilateral",
        include_str!("../../../treaties/trilateral.toml"),
    ),
];

/// Names of the built-in treaties.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

/// Why a treaty could not be loaded. Every variant names the file, and where
/// it can, the line and key at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TreatyError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or has a wrong, missing or unknown key.
    #[error("{file}:{line}: {message}")]
    Parse {
        /// File name.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A key has a value the treaty model does not allow.
    #[error("{file}:{line}: `{key}`: {message}")]
    Invalid {
        /// File name.
        file: String,
        /// 1-based line.
        line: usize,
        /// The key at fault, as a path (`limits[2].max`).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The name is neither a readable file nor a built-in treaty.
    #[error("unknown treaty `{name}`: not a file, and not a built-in treaty ({known})")]
    Unknown {
        /// What was asked for.
        name: String,
        /// The built-in names.
        known: String,
    },
    /// The treaty names no reading with this id.
    #[error("{treaty} has no reading `{reading}` (readings: {known})")]
    UnknownReading {
        /// The treaty.
        treaty: String,
        /// What was asked for.
        reading: String,
        /// The readings it has.
        known: String,
    },
    /// `based_on` chains too deep (or in a cycle).
    #[error("{file}: `based_on` chain is longer than {max} (a cycle?)")]
    TooDeep {
        /// File name.
        file: String,
        /// Depth allowed.
        max: usize,
    },
}

/// One source text and its name, for line numbers.
pub(crate) struct Source {
    pub(crate) name: String,
    pub(crate) text: String,
}

impl Source {
    pub(crate) fn line(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    /// The line of `key = …` inside the table at `span`, else the table's first line.
    pub(crate) fn key_line(&self, span: Range<usize>, key: &str) -> usize {
        let first = self.line(span.clone());
        let end = span.end.min(self.text.len());
        let start = span.start.min(end);
        let leaf = key.rsplit('.').next().unwrap_or(key);
        let leaf = leaf.split('[').next().unwrap_or(leaf);
        self.text[start..end]
            .lines()
            .position(|l| key_of(l) == Some(leaf))
            .map_or(first, |i| first + i)
    }
}

/// The key a `key = value` line sets.
pub(crate) fn key_of(line: &str) -> Option<&str> {
    let (k, _) = line.split_once('=')?;
    let k = k.trim();
    (!k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    .then_some(k)
}

/// A value with the file it came from and its position there.
struct At<T> {
    src: usize,
    span: Range<usize>,
    value: T,
}

impl<T> At<T> {
    fn new(src: usize, s: Spanned<T>) -> Self {
        let span = s.span();
        At {
            src,
            span,
            value: s.into_inner(),
        }
    }
}

/// All files, merged, with their positions.
struct Merged {
    sources: Vec<Source>,
    treaty: At<TreatySection>,
    extension: Option<At<ExtensionRuleFile>>,
    extensions: Vec<At<ExtensionFile>>,
    parties: Vec<At<PartyFile>>,
    item_kinds: Vec<At<ItemKindFile>>,
    item_types: Vec<At<ItemTypeFile>>,
    limits: Vec<At<LimitFile>>,
    data_exchanges: Option<At<DataExchangeFile>>,
    notifications: Option<At<NotificationRuleFile>>,
    inspections: Vec<At<InspectionFile>>,
    notification_types: Vec<At<NotificationTypeFile>>,
    data_categories: Vec<At<DataCategoryFile>>,
    readings: Vec<At<ReadingFile>>,
    withdrawal: Option<At<WithdrawalFile>>,
}

const MAX_DEPTH: usize = 4;

impl Treaty {
    /// Loads a treaty by built-in name (`new-start`) or by path to a TOML file.
    pub fn load(name_or_path: &str) -> Result<Treaty, TreatyError> {
        let merged = read_chain(name_or_path, None, 0)?;
        validate(merged)
    }

    /// Loads a treaty from TOML text (for tests and embedding); `name` is used in errors.
    pub fn from_str(name: &str, text: &str) -> Result<Treaty, TreatyError> {
        let merged = merge_text(name.to_string(), text.to_string(), None, 0)?;
        validate(merged)
    }
}

fn resolve(name_or_path: &str, dir: Option<&Path>) -> Result<Source, TreatyError> {
    let candidates: Vec<PathBuf> = {
        let p = PathBuf::from(name_or_path);
        let mut c = vec![];
        if let Some(d) = dir {
            c.push(d.join(format!("{name_or_path}.toml")));
            c.push(d.join(name_or_path));
        }
        if name_or_path.ends_with(".toml") || name_or_path.contains('/') {
            c.push(p);
        }
        c
    };
    for path in candidates {
        if path.is_file() {
            let text = std::fs::read_to_string(&path).map_err(|source| TreatyError::Read {
                path: path.display().to_string(),
                source,
            })?;
            return Ok(Source {
                name: path.display().to_string(),
                text,
            });
        }
    }
    if let Some((n, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
        return Ok(Source {
            name: format!("treaties/{n}.toml"),
            text: (*text).to_string(),
        });
    }
    if name_or_path.ends_with(".toml") || name_or_path.contains('/') {
        return Err(TreatyError::Read {
            path: name_or_path.to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    Err(TreatyError::Unknown {
        name: name_or_path.to_string(),
        known: builtin_names().join(", "),
    })
}

fn read_chain(name: &str, dir: Option<&Path>, depth: usize) -> Result<Merged, TreatyError> {
    let src = resolve(name, dir)?;
    let dir = Path::new(&src.name).parent().map(Path::to_path_buf);
    merge_text(src.name, src.text, dir.as_deref(), depth)
}

fn merge_text(
    name: String,
    text: String,
    dir: Option<&Path>,
    depth: usize,
) -> Result<Merged, TreatyError> {
    if depth >= MAX_DEPTH {
        return Err(TreatyError::TooDeep {
            file: name,
            max: MAX_DEPTH,
        });
    }
    let src = Source { name, text };
    let file: TreatyFile = toml::from_str(&src.text).map_err(|e| {
        let line = e.span().map(|s| src.line(s)).unwrap_or(1);
        let key = src.text.lines().nth(line - 1).and_then(key_of);
        TreatyError::Parse {
            file: src.name.clone(),
            line,
            message: match key {
                Some(k) if !e.message().contains(&format!("`{k}`")) => {
                    format!("`{k}`: {}", e.message())
                }
                _ => e.message().to_string(),
            },
        }
    })?;
    let base = match &file.based_on {
        Some(b) => Some(read_chain(b.get_ref(), dir, depth + 1)?),
        None => None,
    };
    let (mut m, me) = match base {
        Some(mut base) => {
            let me = base.sources.len();
            base.sources.push(src);
            base.treaty = At::new(me, file.treaty);
            (base, me)
        }
        None => {
            let me = 0;
            (
                Merged {
                    sources: vec![src],
                    treaty: At::new(me, file.treaty),
                    extension: None,
                    extensions: vec![],
                    parties: vec![],
                    item_kinds: vec![],
                    item_types: vec![],
                    limits: vec![],
                    data_exchanges: None,
                    notifications: None,
                    inspections: vec![],
                    notification_types: vec![],
                    data_categories: vec![],
                    readings: vec![],
                    withdrawal: None,
                },
                me,
            )
        }
    };
    if let Some(x) = file.extension {
        m.extension = Some(At::new(me, x));
    }
    m.extensions
        .extend(file.extensions.into_iter().map(|x| At::new(me, x)));
    if !file.parties.is_empty() {
        m.parties = file.parties.into_iter().map(|x| At::new(me, x)).collect();
    }
    overlay(&mut m.item_kinds, file.item_kinds, me, |k| k.id.clone());
    overlay(&mut m.item_types, file.item_types, me, |k| k.id.clone());
    overlay(&mut m.limits, file.limits, me, |k| k.id.clone());
    overlay(&mut m.inspections, file.inspections, me, |k| k.id.clone());
    overlay(
        &mut m.notification_types,
        file.notification_types,
        me,
        |k| k.id.clone(),
    );
    overlay(&mut m.data_categories, file.data_categories, me, |k| {
        k.id.clone()
    });
    overlay(&mut m.readings, file.readings, me, |k| k.id.clone());
    if let Some(x) = file.withdrawal {
        m.withdrawal = Some(At::new(me, x));
    }
    if let Some(x) = file.data_exchanges {
        m.data_exchanges = Some(At::new(me, x));
    }
    if let Some(x) = file.notifications {
        m.notifications = Some(At::new(me, x));
    }
    Ok(m)
}

fn overlay<T>(base: &mut Vec<At<T>>, add: Vec<Spanned<T>>, src: usize, id: impl Fn(&T) -> String) {
    for x in add {
        let x = At::new(src, x);
        match base.iter().position(|b| id(&b.value) == id(&x.value)) {
            Some(i) => base[i] = x,
            None => base.push(x),
        }
    }
}

/// Builds errors that point into the merged sources.
struct Ctx<'a> {
    sources: &'a [Source],
}

impl Ctx<'_> {
    fn err<T>(
        &self,
        at: &At<T>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> TreatyError {
        let s = &self.sources[at.src];
        let key = key.into();
        TreatyError::Invalid {
            file: s.name.clone(),
            line: s.key_line(at.span.clone(), &key),
            key,
            message: message.into(),
        }
    }

    fn date<T>(&self, at: &At<T>, key: &str, d: &TomlDate) -> Result<NaiveDate, TreatyError> {
        match (d.date, d.time, d.offset) {
            (Some(date), None, None) => NaiveDate::from_ymd_opt(
                i32::from(date.year),
                u32::from(date.month),
                u32::from(date.day),
            )
            .ok_or_else(|| self.err(at, key, format!("{d} is not a calendar date"))),
            _ => Err(self.err(
                at,
                key,
                format!("expected a date like 2011-02-05, found {d}"),
            )),
        }
    }

    /// Checks one counting term (kinds, statuses, each) and returns its
    /// statuses and what each item contributes.
    fn term<T>(
        &self,
        at: &At<T>,
        tkey: &str,
        kinds: &[String],
        statuses: &[String],
        each: &str,
        role_of: &dyn Fn(&str) -> Option<Role>,
    ) -> Result<(Vec<Status>, Each), TreatyError> {
        for kind in kinds {
            if role_of(kind).is_none() {
                return Err(self.err(
                    at,
                    format!("{tkey}.kinds"),
                    format!("`{kind}` is not an item kind of this treaty"),
                ));
            }
        }
        let mut out = vec![];
        for s in statuses {
            out.push(Status::parse(s).ok_or_else(|| {
                self.err(
                    at,
                    format!("{tkey}.statuses"),
                    format!(
                        "`{s}`: expected deployed, non_deployed, test, converted, eliminated or training"
                    ),
                )
            })?);
        }
        let each = match each {
            "one" => Each::One,
            "declared_reentry_vehicles" => {
                if let Some(k) = kinds.iter().find(|k| role_of(k) != Some(Role::Missile)) {
                    return Err(self.err(
                        at,
                        format!("{tkey}.each"),
                        format!("declared_reentry_vehicles applies only to missiles, not `{k}`"),
                    ));
                }
                Each::DeclaredReentryVehicles
            }
            other => {
                return Err(self.err(
                    at,
                    format!("{tkey}.each"),
                    format!("`{other}`: expected one or declared_reentry_vehicles"),
                ))
            }
        };
        Ok((out, each))
    }

    fn count<T>(&self, at: &At<T>, key: &str, n: i64, min: i64) -> Result<u32, TreatyError> {
        if n < min {
            return Err(self.err(at, key, format!("must be at least {min}, found {n}")));
        }
        u32::try_from(n).map_err(|_| self.err(at, key, format!("{n} is too large")))
    }
}

fn require<T>(x: Option<T>, sources: &[Source], key: &str) -> Result<T, TreatyError> {
    x.ok_or_else(|| missing(sources, key))
}

fn missing(sources: &[Source], key: &str) -> TreatyError {
    TreatyError::Invalid {
        file: sources.last().map(|s| s.name.clone()).unwrap_or_default(),
        line: 1,
        key: key.to_string(),
        message: "missing (and no base treaty provides it)".to_string(),
    }
}

fn validate(m: Merged) -> Result<Treaty, TreatyError> {
    let c = Ctx {
        sources: &m.sources,
    };
    let t = &m.treaty;
    let tv = &t.value;
    if tv.id.is_empty()
        || !tv
            .id
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
    {
        return Err(c.err(t, "treaty.id", "must be letters, digits and '-'"));
    }
    let signed = c.date(t, "treaty.signed", &tv.signed)?;
    let entry_into_force = c.date(t, "treaty.entry_into_force", &tv.entry_into_force)?;
    if entry_into_force < signed {
        return Err(c.err(t, "treaty.entry_into_force", "is before the signature"));
    }
    let term_years = c.count(t, "treaty.term_years", tv.term_years, 1)?;

    let ext = require(m.extension.as_ref(), &m.sources, "extension")?;
    let extension_rule = ExtensionRule {
        max_count: c.count(ext, "extension.max_count", ext.value.max_count, 0)?,
        max_years: c.count(ext, "extension.max_years", ext.value.max_years, 0)?,
        source: ext.value.source.clone(),
    };
    if m.extensions.len() > extension_rule.max_count as usize {
        let last = &m.extensions[m.extensions.len() - 1];
        return Err(c.err(
            last,
            "extensions",
            format!(
                "{} extensions, but the treaty allows {}",
                m.extensions.len(),
                extension_rule.max_count
            ),
        ));
    }
    let mut extensions = vec![];
    let mut expiry = crate::add_years(entry_into_force, term_years);
    for (i, e) in m.extensions.iter().enumerate() {
        let key = format!("extensions[{i}]");
        let agreed = c.date(e, &format!("{key}.agreed"), &e.value.agreed)?;
        let years = c.count(e, &format!("{key}.years"), e.value.years, 1)?;
        if years > extension_rule.max_years {
            return Err(c.err(
                e,
                format!("{key}.years"),
                format!(
                    "{years} years, but an extension may be at most {}",
                    extension_rule.max_years
                ),
            ));
        }
        if agreed < entry_into_force || agreed >= expiry {
            return Err(c.err(
                e,
                format!("{key}.agreed"),
                format!("{agreed} is outside the treaty's life ({entry_into_force} to {expiry})"),
            ));
        }
        expiry = crate::add_years(expiry, years);
        extensions.push(Extension {
            agreed,
            years,
            proposed: e.value.proposed,
            source: e.value.source.clone(),
        });
    }

    if m.parties.is_empty() {
        return Err(missing(&m.sources, "parties"));
    }
    let mut parties = vec![];
    let mut seen = HashSet::new();
    for (i, p) in m.parties.iter().enumerate() {
        let code = &p.value.code;
        if code.len() < 2 || code.len() > 8 || !code.chars().all(|ch| ch.is_ascii_uppercase()) {
            return Err(c.err(
                p,
                format!("parties[{i}].code"),
                format!("`{code}`: use 2 to 8 capital letters"),
            ));
        }
        if !seen.insert(code.clone()) {
            return Err(c.err(
                p,
                format!("parties[{i}].code"),
                format!("`{code}` appears twice"),
            ));
        }
        parties.push(Party {
            code: code.clone(),
            name: p.value.name.clone(),
        });
    }

    let mut item_kinds: Vec<ItemKind> = vec![];
    for (i, k) in m.item_kinds.iter().enumerate() {
        let role = match k.value.role.as_str() {
            "missile" => Role::Missile,
            "launcher" => Role::Launcher,
            "heavy_bomber" => Role::HeavyBomber,
            "warhead" => Role::Warhead,
            other => {
                return Err(c.err(
                    k,
                    format!("item_kinds[{i}].role"),
                    format!("`{other}`: expected missile, launcher, heavy_bomber or warhead"),
                ))
            }
        };
        if item_kinds.iter().any(|x| x.id == k.value.id) {
            return Err(c.err(
                k,
                format!("item_kinds[{i}].id"),
                format!("`{}` appears twice", k.value.id),
            ));
        }
        if (role == Role::Missile) != k.value.launcher_kind.is_some() {
            return Err(c.err(
                k,
                format!("item_kinds[{i}].launcher_kind"),
                "required for a missile kind, and only for one",
            ));
        }
        item_kinds.push(ItemKind {
            id: k.value.id.clone(),
            name: k.value.name.clone(),
            role,
            launcher_kind: k.value.launcher_kind.clone(),
        });
    }
    for (i, k) in m.item_kinds.iter().enumerate() {
        if let Some(lk) = &k.value.launcher_kind {
            if !item_kinds
                .iter()
                .any(|x| &x.id == lk && x.role == Role::Launcher)
            {
                return Err(c.err(
                    k,
                    format!("item_kinds[{i}].launcher_kind"),
                    format!("`{lk}` is not an item kind with role launcher"),
                ));
            }
        }
    }
    let role_of = |id: &str| item_kinds.iter().find(|k| k.id == id).map(|k| k.role);

    let mut item_types: Vec<ItemType> = vec![];
    for (i, ty) in m.item_types.iter().enumerate() {
        let v = &ty.value;
        let key = format!("item_types[{i}]");
        if item_types.iter().any(|x| x.id == v.id) {
            return Err(c.err(ty, format!("{key}.id"), format!("`{}` appears twice", v.id)));
        }
        let Some(role) = role_of(&v.kind) else {
            return Err(c.err(
                ty,
                format!("{key}.kind"),
                format!("`{}` is not an item kind of this treaty", v.kind),
            ));
        };
        if !parties.iter().any(|p| p.code == v.party) {
            return Err(c.err(
                ty,
                format!("{key}.party"),
                format!("`{}` is not a party to this treaty", v.party),
            ));
        }
        let max_rv = match (role, v.max_reentry_vehicles) {
            (Role::Missile, Some(n)) => {
                Some(c.count(ty, &format!("{key}.max_reentry_vehicles"), n, 1)?)
            }
            (Role::Missile, None) => {
                return Err(c.err(
                    ty,
                    format!("{key}.max_reentry_vehicles"),
                    "required for a missile type",
                ))
            }
            (_, Some(_)) => {
                return Err(c.err(
                    ty,
                    format!("{key}.max_reentry_vehicles"),
                    "only a missile type carries reentry vehicles",
                ))
            }
            (_, None) => None,
        };
        item_types.push(ItemType {
            id: v.id.clone(),
            name: v.name.clone(),
            kind: v.kind.clone(),
            party: v.party.clone(),
            max_reentry_vehicles: max_rv,
            source: v.source.clone(),
        });
    }

    let mut limits: Vec<Limit> = vec![];
    for (i, l) in m.limits.iter().enumerate() {
        let v = &l.value;
        let key = format!("limits[{i}]");
        if limits.iter().any(|x| x.id == v.id) {
            return Err(c.err(l, format!("{key}.id"), format!("`{}` appears twice", v.id)));
        }
        let max = match &v.max {
            toml::Value::Integer(n) => {
                LimitMax::Fixed(u64::from(c.count(l, &format!("{key}.max"), *n, 0)?))
            }
            toml::Value::String(s) if s == "baseline" => LimitMax::Baseline,
            other => {
                return Err(c.err(
                    l,
                    format!("{key}.max"),
                    format!("expected a non-negative integer or \"baseline\", found {other}"),
                ))
            }
        };
        let binding_from = c.date(l, &format!("{key}.binding_from"), &v.binding_from)?;
        if binding_from < entry_into_force {
            return Err(c.err(
                l,
                format!("{key}.binding_from"),
                "is before entry into force",
            ));
        }
        if v.count.is_empty() {
            return Err(c.err(
                l,
                format!("{key}.count"),
                "a limit needs at least one counting term",
            ));
        }
        let mut count = vec![];
        for (j, term) in v.count.iter().enumerate() {
            let tkey = format!("{key}.count[{j}]");
            let (statuses, each) =
                c.term(l, &tkey, &term.kinds, &term.statuses, &term.each, &role_of)?;
            count.push(CountTerm {
                kinds: term.kinds.clone(),
                statuses,
                each,
                article: term.article.clone(),
                reading: None,
            });
        }
        limits.push(Limit {
            id: v.id.clone(),
            name: v.name.clone(),
            article: v.article.clone(),
            max,
            binding_from,
            source: v.source.clone(),
            count,
        });
    }

    let dx = require(m.data_exchanges.as_ref(), &m.sources, "data_exchanges")?;
    let mut as_of = vec![];
    for s in &dx.value.as_of {
        let parsed = s
            .split_once('-')
            .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
            .filter(|&(mo, d)| NaiveDate::from_ymd_opt(2001, mo, d).is_some());
        as_of.push(
            parsed.ok_or_else(|| {
                c.err(dx, "data_exchanges.as_of", format!("`{s}`: expected MM-DD"))
            })?,
        );
    }
    let data_exchanges = DataExchangeRule {
        as_of,
        first_regular_as_of: c.date(
            dx,
            "data_exchanges.first_regular_as_of",
            &dx.value.first_regular_as_of,
        )?,
        due_days: c.count(dx, "data_exchanges.due_days", dx.value.due_days, 0)?,
        initial_due_days: c.count(
            dx,
            "data_exchanges.initial_due_days",
            dx.value.initial_due_days,
            0,
        )?,
        source: dx.value.source.clone(),
    };

    let nr = require(m.notifications.as_ref(), &m.sources, "notifications")?;
    let notifications = NotificationRule {
        deadline_days: c.count(nr, "notifications.deadline_days", nr.value.deadline_days, 0)?,
        reentry_vehicle_changes: match nr.value.reentry_vehicle_changes.as_str() {
            "next_data_exchange" => RvChangeDeadline::NextDataExchange,
            "deadline_days" => RvChangeDeadline::DeadlineDays,
            other => {
                return Err(c.err(
                    nr,
                    "notifications.reentry_vehicle_changes",
                    format!("`{other}`: expected next_data_exchange or deadline_days"),
                ))
            }
        },
        source: nr.value.source.clone(),
    };

    let mut inspections: Vec<InspectionType> = vec![];
    for (i, x) in m.inspections.iter().enumerate() {
        let key = format!("inspections[{i}]");
        if inspections.iter().any(|y| y.id == x.value.id) {
            return Err(c.err(
                x,
                format!("{key}.id"),
                format!("`{}` appears twice", x.value.id),
            ));
        }
        let mut kinds = vec![];
        for fk in &x.value.facility_kinds {
            kinds.push(FacilityKind::parse(fk).ok_or_else(|| {
                c.err(
                    x,
                    format!("{key}.facility_kinds"),
                    format!("`{fk}` is not a facility kind"),
                )
            })?);
        }
        inspections.push(InspectionType {
            id: x.value.id.clone(),
            name: x.value.name.clone(),
            per_treaty_year: c.count(
                x,
                &format!("{key}.per_treaty_year"),
                x.value.per_treaty_year,
                0,
            )?,
            facility_kinds: kinds,
            source: x.value.source.clone(),
        });
    }

    let mut notification_types: Vec<NotificationType> = vec![];
    for (i, x) in m.notification_types.iter().enumerate() {
        let v = &x.value;
        let key = format!("notification_types[{i}]");
        if v.id.is_empty() || !v.id.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_') {
            return Err(c.err(x, format!("{key}.id"), "use lower-case letters and '_'"));
        }
        if notification_types.iter().any(|y| y.id == v.id) {
            return Err(c.err(x, format!("{key}.id"), format!("`{}` appears twice", v.id)));
        }
        let given = [
            v.deadline_days.is_some(),
            v.advance_days.is_some(),
            v.deadline.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if given != 1 {
            return Err(c.err(
                x,
                format!("{key}.deadline_days"),
                format!(
                    "notification type `{}` needs exactly one deadline: deadline_days, advance_days or deadline (\"next_data_exchange\" or \"data_exchange_schedule\"); found {given}",
                    v.id
                ),
            ));
        }
        let deadline = if let Some(n) = v.deadline_days {
            Deadline::AfterEvent(c.count(x, &format!("{key}.deadline_days"), n, 0)?)
        } else if let Some(n) = v.advance_days {
            Deadline::InAdvance(c.count(x, &format!("{key}.advance_days"), n, 0)?)
        } else {
            match v.deadline.as_deref() {
                Some("next_data_exchange") => Deadline::NextDataExchange,
                Some("data_exchange_schedule") => Deadline::DataExchangeSchedule,
                other => {
                    return Err(c.err(
                        x,
                        format!("{key}.deadline"),
                        format!(
                            "`{}`: expected next_data_exchange or data_exchange_schedule",
                            other.unwrap_or("")
                        ),
                    ))
                }
            }
        };
        let followed_by = match &v.followed_by {
            Some(f) => Some(FollowedBy {
                kind: f.kind.clone(),
                within_days: c.count(
                    x,
                    &format!("{key}.followed_by.within_days"),
                    f.within_days,
                    1,
                )?,
                source: f.source.clone(),
            }),
            None => None,
        };
        if v.source.trim().is_empty() {
            return Err(c.err(
                x,
                format!("{key}.source"),
                "every notification type needs its source",
            ));
        }
        notification_types.push(NotificationType {
            id: v.id.clone(),
            name: v.name.clone(),
            article: v.article.clone(),
            deadline,
            required: v.required.clone(),
            followed_by,
            source: v.source.clone(),
        });
    }
    for (i, x) in m.notification_types.iter().enumerate() {
        if let Some(f) = &x.value.followed_by {
            if !notification_types.iter().any(|t| t.id == f.kind) {
                return Err(c.err(
                    x,
                    format!("notification_types[{i}].followed_by.kind"),
                    format!("`{}` is not a notification type of this treaty", f.kind),
                ));
            }
        }
    }

    let mut data_categories: Vec<DataCategory> = vec![];
    for (i, x) in m.data_categories.iter().enumerate() {
        let v = &x.value;
        let key = format!("data_categories[{i}]");
        if data_categories.iter().any(|y| y.id == v.id) {
            return Err(c.err(x, format!("{key}.id"), format!("`{}` appears twice", v.id)));
        }
        let (statuses, each) = c.term(x, &key, &v.kinds, &v.statuses, &v.each, &role_of)?;
        data_categories.push(DataCategory {
            id: v.id.clone(),
            name: v.name.clone(),
            kinds: v.kinds.clone(),
            statuses,
            each,
            source: v.source.clone(),
        });
    }

    let mut readings: Vec<Reading> = vec![];
    for (i, x) in m.readings.iter().enumerate() {
        let v = &x.value;
        let key = format!("readings[{i}]");
        if v.id.is_empty()
            || !v
                .id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
        {
            return Err(c.err(x, format!("{key}.id"), "use letters, digits and '-'"));
        }
        if readings.iter().any(|y| y.id == v.id) {
            return Err(c.err(x, format!("{key}.id"), format!("`{}` appears twice", v.id)));
        }
        if !parties.iter().any(|p| p.code == v.held_by) {
            return Err(c.err(
                x,
                format!("{key}.held_by"),
                format!("`{}` is not a party to this treaty", v.held_by),
            ));
        }
        if v.default && (!v.count.is_empty() || !v.published.is_empty()) {
            return Err(c.err(
                x,
                format!("{key}.default"),
                "the default reading is the treaty's own counting: it adds no terms",
            ));
        }
        let mut terms = vec![];
        for (j, t) in v.count.iter().enumerate() {
            let tkey = format!("{key}.count[{j}]");
            if !limits.iter().any(|l| l.id == t.limit) {
                return Err(c.err(
                    x,
                    format!("{tkey}.limit"),
                    format!("`{}` is not a limit of this treaty", t.limit),
                ));
            }
            let (statuses, each) = c.term(x, &tkey, &t.kinds, &t.statuses, &t.each, &role_of)?;
            terms.push(ReadingTerm {
                limit: t.limit.clone(),
                term: CountTerm {
                    kinds: t.kinds.clone(),
                    statuses,
                    each,
                    article: t.article.clone(),
                    reading: Some(v.id.clone()),
                },
            });
        }
        let mut published = vec![];
        for (j, p) in v.published.iter().enumerate() {
            let pkey = format!("{key}.published[{j}]");
            if !parties.iter().any(|q| q.code == p.party) {
                return Err(c.err(
                    x,
                    format!("{pkey}.party"),
                    format!("`{}` is not a party", p.party),
                ));
            }
            if !limits.iter().any(|l| l.id == p.limit) {
                return Err(c.err(
                    x,
                    format!("{pkey}.limit"),
                    format!("`{}` is not a limit", p.limit),
                ));
            }
            published.push(PublishedAdjustment {
                party: p.party.clone(),
                limit: p.limit.clone(),
                add: u64::from(c.count(x, &format!("{pkey}.add"), p.add, 0)?),
                from: c.date(x, &format!("{pkey}.from"), &p.from)?,
                breakdown: p.breakdown.clone(),
                source: p.source.clone(),
            });
        }
        readings.push(Reading {
            id: v.id.clone(),
            name: v.name.clone(),
            held_by: v.held_by.clone(),
            default: v.default,
            summary: v.summary.clone(),
            terms,
            published,
            source: v.source.clone(),
        });
    }
    if readings.iter().filter(|r| r.default).count() > 1 {
        let last = &m.readings[m.readings.len() - 1];
        return Err(c.err(
            last,
            "readings.default",
            "at most one reading is the default",
        ));
    }

    let withdrawal = match &m.withdrawal {
        Some(w) => Some(WithdrawalRule {
            article: w.value.article.clone(),
            notice_months: c.count(w, "withdrawal.notice_months", w.value.notice_months, 0)?,
            source: w.value.source.clone(),
        }),
        None => None,
    };

    Ok(Treaty {
        id: tv.id.clone(),
        name: tv.name.clone(),
        full_name: tv.full_name.clone(),
        signed,
        entry_into_force,
        term_years,
        source: tv.source.clone(),
        extension_rule,
        extensions,
        parties,
        item_kinds,
        item_types,
        limits,
        data_exchanges,
        notifications,
        inspections,
        notification_types,
        data_categories,
        readings,
        reading: None,
        withdrawal,
        files: m.sources.iter().map(|s| s.name.clone()).collect(),
    })
}
