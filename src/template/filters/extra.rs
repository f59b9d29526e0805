//! Ansible's remaining core filters: `comment`, path and URL splitting, itertools
//! (`product`, `combinations`, `permutations`, `zip_longest`), `subelements`, sizes
//! (`human_readable`, `human_to_bytes`), `shuffle` with Python's Mersenne Twister, dates
//! (`strftime`, `now()`), `type_debug`, `regex_escape`, `center` and `unique`.

use minijinja::value::{Kwargs, Object, Rest, Value, ValueKind};
use minijinja::{Error, State};

use super::{defined, invalid, text};
use crate::template::pyrepr::py_str;

/// `comment(style='plain', **params)` from `plugins/filter/core.py`.
pub(super) fn comment(
    value: &Value,
    style: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let text = text(value)?;
    let style = match style {
        Some(s) => s,
        None => kwargs
            .get::<Option<String>>("style")?
            .unwrap_or_else(|| "plain".into()),
    };
    let (beginning, decoration, end) = match style.as_str() {
        "plain" => ("", "# ", ""),
        "erlang" => ("", "% ", ""),
        "c" => ("", "// ", ""),
        "cblock" => ("/*", " * ", " */"),
        "xml" => ("<!--", " - ", "-->"),
        _ => {
            return Err(invalid(format!(
                "Invalid style '{style}'. Available styles: plain, erlang, c, cblock, xml"
            )));
        }
    };
    let get = |k: &str| -> Result<Option<String>, Error> {
        Ok(kwargs.get::<Option<Value>>(k)?.map(|v| py_str(&v)))
    };
    let count = |k: &str| -> Result<Option<i64>, Error> {
        match kwargs.get::<Option<Value>>(k)? {
            None => Ok(None),
            Some(v) => i64::try_from(v.clone())
                .ok()
                .or_else(|| py_str(&v).trim().parse().ok())
                .map(Some)
                .ok_or_else(|| invalid(format!("invalid literal for int(): {}", py_str(&v)))),
        }
    };
    // The style's decoration, unless given, also makes the default prefix and postfix.
    let prepostfix = get("decoration")?.unwrap_or_else(|| decoration.to_string());
    let newline = get("newline")?.unwrap_or_else(|| "\n".into());
    let beginning = get("beginning")?.unwrap_or_else(|| beginning.into());
    let prefix = get("prefix")?.unwrap_or_else(|| prepostfix.trim_end().to_string());
    let prefix_count = count("prefix_count")?.unwrap_or(1);
    let decoration = prepostfix;
    let postfix = get("postfix")?.unwrap_or_else(|| decoration.trim_end().to_string());
    let postfix_count = count("postfix_count")?.unwrap_or(1);
    let end = get("end")?.unwrap_or_else(|| end.into());
    kwargs.assert_all_used()?;
    let rep = |n: i64, s: &str| s.repeat(usize::try_from(n).unwrap_or(0));
    let mut out = String::new();
    if !beginning.is_empty() {
        out.push_str(&beginning);
        out.push_str(&newline);
    }
    if !prefix.is_empty() {
        if prefix != newline {
            out.push_str(&rep(prefix_count, &format!("{prefix}{newline}")));
        } else {
            out.push_str(&rep(prefix_count, &newline));
        }
    }
    let body = format!(
        "{decoration}{}",
        if newline.is_empty() {
            text
        } else {
            text.replace(&newline, &format!("{newline}{decoration}"))
        }
    );
    let bare = format!("{decoration}{newline}");
    out.push_str(&if bare.is_empty() {
        body
    } else {
        body.replace(&bare, &format!("{}{newline}", decoration.trim_end()))
    });
    // newline.join([''] + [postfix] * postfix_count)
    for _ in 0..postfix_count.max(0) {
        out.push_str(&newline);
        out.push_str(&postfix);
    }
    if !end.is_empty() {
        out.push_str(&newline);
        out.push_str(&end);
    }
    Ok(out)
}

/// Python's `os.path.splitext`, as a two-item list.
pub(super) fn splitext(value: &Value) -> Result<Value, Error> {
    let p = text(value)?;
    let base_start = p.rfind('/').map_or(0, |i| i + 1);
    let base = &p[base_start..];
    // Leading dots of the last component never start an extension.
    let lead = base.len() - base.trim_start_matches('.').len();
    let (root, ext) = match base[lead..].rfind('.') {
        Some(i) => p.split_at(base_start + lead + i),
        None => (p.as_str(), ""),
    };
    Ok(Value::from(vec![Value::from(root), Value::from(ext)]))
}

/// `subelements(subelements, skip_missing=False)`: `[item, subitem]` pairs.
pub(super) fn subelements(
    value: &Value,
    path: &Value,
    skip_missing: Option<bool>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    defined(value)?;
    let skip = skip_missing
        .or(kwargs.get::<Option<bool>>("skip_missing")?)
        .unwrap_or(false);
    kwargs.assert_all_used()?;
    let elements: Vec<Value> = match value.kind() {
        ValueKind::Map => value
            .try_iter()?
            .map(|k| value.get_item(&k))
            .collect::<Result<_, _>>()?,
        ValueKind::Seq => value.try_iter()?.collect(),
        _ => return Err(invalid("obj must be a list of dicts or a nested dict")),
    };
    let keys: Vec<Value> = match path.kind() {
        ValueKind::Seq => path.try_iter()?.collect(),
        ValueKind::String => py_str(path).split('.').map(Value::from).collect(),
        _ => return Err(invalid("subelements must be a list or a string")),
    };
    let mut out = Vec::new();
    for element in elements {
        let mut values = element.clone();
        let mut missing = false;
        for key in &keys {
            if values.kind() != ValueKind::Map {
                return Err(invalid(format!(
                    "the key {} should point to a dictionary, got '{}'",
                    py_str(key),
                    py_str(&values)
                )));
            }
            match values.get_item(key).ok().filter(|v| !v.is_undefined()) {
                Some(v) => values = v,
                None if skip => {
                    missing = true;
                    break;
                }
                None => {
                    return Err(invalid(format!(
                        "could not find {} key in iterated item {}",
                        crate::template::py_repr(key),
                        crate::template::py_repr(&values)
                    )));
                }
            }
        }
        if missing {
            continue;
        }
        if values.kind() != ValueKind::Seq {
            return Err(invalid(format!(
                "the key {} should point to a list, got {}",
                crate::template::py_repr(&Value::from(keys.last().map(py_str).unwrap_or_default())),
                crate::template::py_repr(&values)
            )));
        }
        for v in values.try_iter()? {
            out.push(Value::from(vec![element.clone(), v]));
        }
    }
    Ok(Value::from(out))
}

fn items(value: &Value) -> Result<Vec<Value>, Error> {
    defined(value)?;
    Ok(value.try_iter()?.collect())
}

/// `itertools.product(*iterables, repeat=1)`.
pub(super) fn product(value: &Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let repeat = kwargs.get::<Option<usize>>("repeat")?.unwrap_or(1);
    kwargs.assert_all_used()?;
    let mut pools = vec![items(value)?];
    for o in others.iter() {
        pools.push(items(o)?);
    }
    let pools: Vec<Vec<Value>> = (0..repeat).flat_map(|_| pools.clone()).collect();
    let mut result: Vec<Vec<Value>> = vec![Vec::new()];
    for pool in &pools {
        let mut next = Vec::with_capacity(result.len() * pool.len());
        for prefix in &result {
            for item in pool {
                let mut t = prefix.clone();
                t.push(item.clone());
                next.push(t);
            }
        }
        result = next;
    }
    Ok(Value::from(
        result.into_iter().map(Value::from).collect::<Vec<_>>(),
    ))
}

/// `itertools.combinations(iterable, r)`.
pub(super) fn combinations(value: &Value, r: usize) -> Result<Value, Error> {
    let pool = items(value)?;
    let n = pool.len();
    let mut out = Vec::new();
    if r > n {
        return Ok(Value::from(out));
    }
    let mut idx: Vec<usize> = (0..r).collect();
    loop {
        out.push(Value::from(
            idx.iter().map(|&i| pool[i].clone()).collect::<Vec<_>>(),
        ));
        let Some(i) = (0..r).rev().find(|&i| idx[i] != i + n - r) else {
            break;
        };
        idx[i] += 1;
        for j in i + 1..r {
            idx[j] = idx[j - 1] + 1;
        }
    }
    Ok(Value::from(out))
}

/// `itertools.permutations(iterable, r=None)`, in lexicographic order of positions.
pub(super) fn permutations(value: &Value, r: Option<usize>) -> Result<Value, Error> {
    let pool = items(value)?;
    let n = pool.len();
    let r = r.unwrap_or(n);
    let mut out = Vec::new();
    if r > n {
        return Ok(Value::from(out));
    }
    fn walk(
        pool: &[Value],
        r: usize,
        used: &mut Vec<bool>,
        cur: &mut Vec<Value>,
        out: &mut Vec<Value>,
    ) {
        if cur.len() == r {
            out.push(Value::from(cur.clone()));
            return;
        }
        for i in 0..pool.len() {
            if !used[i] {
                used[i] = true;
                cur.push(pool[i].clone());
                walk(pool, r, used, cur, out);
                cur.pop();
                used[i] = false;
            }
        }
    }
    walk(&pool, r, &mut vec![false; n], &mut Vec::new(), &mut out);
    Ok(Value::from(out))
}

/// `zip_longest(*others, fillvalue=None)`.
pub(super) fn zip_longest(
    value: &Value,
    others: Rest<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let fill = kwargs
        .get::<Option<Value>>("fillvalue")?
        .unwrap_or(Value::from(()));
    kwargs.assert_all_used()?;
    let mut lists = vec![items(value)?];
    for o in others.iter() {
        lists.push(items(o)?);
    }
    let len = lists.iter().map(Vec::len).max().unwrap_or(0);
    Ok(Value::from(
        (0..len)
            .map(|i| {
                Value::from(
                    lists
                        .iter()
                        .map(|l| l.get(i).cloned().unwrap_or_else(|| fill.clone()))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>(),
    ))
}

/// Python's type name of a value (`type_debug`).
pub fn python_type(value: &Value) -> &'static str {
    if value.downcast_object_ref::<PyDateTime>().is_some() {
        return "datetime";
    }
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if value.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Map => "dict",
        ValueKind::Seq => "list",
        _ => "object",
    }
}

const SIZES: &[(char, f64)] = &[
    ('Y', 1208925819614629174706176.0),
    ('Z', 1180591620717411303424.0),
    ('E', 1152921504606846976.0),
    ('P', 1125899906842624.0),
    ('T', 1099511627776.0),
    ('G', 1073741824.0),
    ('M', 1048576.0),
    ('K', 1024.0),
    ('B', 1.0),
];

fn number(value: &Value) -> Result<f64, Error> {
    match value.kind() {
        ValueKind::Number | ValueKind::Bool => f64::try_from(value.clone())
            .map_err(|_| invalid("human_readable() failed on bad input")),
        ValueKind::String => py_str(value)
            .trim()
            .parse()
            .map_err(|_| invalid("human_readable() can't interpret the input")),
        _ => Err(invalid("human_readable() failed on bad input")),
    }
}

/// `human_readable(isbits=False, unit=None)`: `bytes_to_human`.
pub(super) fn human_readable(
    value: &Value,
    isbits: Option<bool>,
    unit: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    defined(value)?;
    let isbits = isbits.or(kwargs.get::<Option<bool>>("isbits")?);
    let unit = unit.or(kwargs.get::<Option<String>>("unit")?);
    kwargs.assert_all_used()?;
    let size = number(value)?;
    let base = if isbits.unwrap_or(false) {
        "bits"
    } else {
        "Bytes"
    };
    let mut chosen = SIZES[SIZES.len() - 1];
    for &(suffix, limit) in SIZES {
        chosen = (suffix, limit);
        let hit = match &unit {
            None => size >= limit,
            Some(u) => u.to_uppercase().starts_with(suffix),
        };
        if hit {
            break;
        }
    }
    let (suffix, limit) = chosen;
    let suffix = if limit != 1.0 {
        format!("{suffix}{}", &base[..1])
    } else {
        base.to_string()
    };
    Ok(format!("{:.2} {suffix}", size / limit))
}

/// `human_to_bytes(default_unit=None, isbits=False)`.
pub(super) fn human_to_bytes(
    value: &Value,
    default_unit: Option<String>,
    isbits: Option<bool>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    defined(value)?;
    let default_unit = default_unit.or(kwargs.get::<Option<String>>("default_unit")?);
    let isbits = isbits.or(kwargs.get::<Option<bool>>("isbits")?);
    kwargs.assert_all_used()?;
    let input = py_str(value);
    let fail = |m: String| invalid(format!("human_to_bytes() can't interpret the input: {m}"));
    let s = input.as_str();
    // ^([0-9]*\.?[0-9]+)(?:\s*([A-Za-z]+))?\s*$
    let num_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let num_text = &s[..num_end];
    let rest = &s[num_end..];
    let unit_text = rest.trim_start();
    let unit_end = unit_text
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(unit_text.len());
    let (unit, tail) = unit_text.split_at(unit_end);
    let valid_num = {
        let dots = num_text.matches('.').count();
        !num_text.is_empty() && dots <= 1 && !num_text.ends_with('.')
    };
    if !valid_num || !tail.trim().is_empty() || (unit.is_empty() && !rest.trim().is_empty()) {
        return Err(fail(format!(
            "human_to_bytes() can't interpret following string: {input}"
        )));
    }
    let num: f64 = num_text.parse().map_err(|_| {
        fail(format!(
            "human_to_bytes() can't interpret following number: {num_text}"
        ))
    })?;
    let unit = if unit.is_empty() {
        default_unit
    } else {
        Some(unit.to_string())
    };
    let Some(unit) = unit else {
        return Ok(Value::from(py_round(num)));
    };
    let key = unit
        .chars()
        .next()
        .map(|c| c.to_ascii_uppercase())
        .unwrap_or('B');
    let Some(&(_, limit)) = SIZES.iter().find(|(k, _)| *k == key) else {
        return Err(fail(format!(
            "human_to_bytes() failed to convert {input} (unit = {unit}). The suffix must be one of Y, Z, E, P, T, G, M, K, B"
        )));
    };
    let bits = isbits.unwrap_or(false);
    if unit.chars().count() > 1 {
        let (class, name) = if bits { ('b', "bit") } else { ('B', "byte") };
        let names = [
            ('B', "byte", "bit"),
            ('K', "kilobyte", "kilobit"),
            ('M', "megabyte", "megabit"),
            ('G', "gigabyte", "gigabit"),
            ('T', "terabyte", "terabit"),
            ('P', "petabyte", "petabit"),
            ('E', "exabyte", "exabit"),
            ('Z', "zetabyte", "zetabit"),
            ('Y', "yottabyte", "yottabit"),
        ];
        let (_, byte_name, bit_name) = names
            .iter()
            .find(|n| n.0 == key)
            .copied()
            .unwrap_or(names[0]);
        let long = if bits { bit_name } else { byte_name };
        let short = if key == 'B' {
            if bits {
                "b".to_string()
            } else {
                "B".to_string()
            }
        } else {
            format!("{key}{class}")
        };
        if unit.to_lowercase() != long && unit != short {
            let expect = if key == 'B' {
                format!("expect {class} or {name}")
            } else {
                format!("expect {key}{class} or {key}")
            };
            return Err(fail(format!(
                "human_to_bytes() failed to convert {input}. Value is not a valid string ({expect})"
            )));
        }
    }
    Ok(Value::from(py_round(num * limit)))
}

/// Python's `int(round(x))`: halves go to the even neighbour.
fn py_round(x: f64) -> i64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && (r as i64) % 2 != 0 {
        (r - x.signum()) as i64
    } else {
        r as i64
    }
}

/// CPython's Mersenne Twister (`random.Random`).
struct Mt {
    state: [u32; 624],
    index: usize,
}

impl Mt {
    fn new(seed: u32) -> Self {
        let mut state = [0u32; 624];
        state[0] = seed;
        for i in 1..624 {
            state[i] = 1812433253u32
                .wrapping_mul(state[i - 1] ^ (state[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        Mt { state, index: 624 }
    }

    fn by_array(key: &[u32]) -> Self {
        let mut mt = Mt::new(19650218);
        let s = &mut mt.state;
        let (mut i, mut j) = (1usize, 0usize);
        let n = 624;
        for _ in 0..n.max(key.len()) {
            s[i] = (s[i] ^ (s[i - 1] ^ (s[i - 1] >> 30)).wrapping_mul(1664525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= n {
                s[0] = s[n - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..n - 1 {
            s[i] = (s[i] ^ (s[i - 1] ^ (s[i - 1] >> 30)).wrapping_mul(1566083941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= n {
                s[0] = s[n - 1];
                i = 1;
            }
        }
        s[0] = 0x8000_0000;
        mt
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            for k in 0..624 {
                let y = (self.state[k] & 0x8000_0000) | (self.state[(k + 1) % 624] & 0x7fff_ffff);
                let mut v = self.state[(k + 397) % 624] ^ (y >> 1);
                if y & 1 == 1 {
                    v ^= 0x9908_b0df;
                }
                self.state[k] = v;
            }
            self.index = 0;
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// CPython's `getrandbits(k)` (k <= 64): 32-bit words, least significant first, the last
    /// one shifted down to the bits still wanted.
    fn bits(&mut self, k: u32) -> u64 {
        let mut out = 0u64;
        let mut left = k;
        let mut shift = 0;
        while left > 0 {
            let mut r = u64::from(self.next_u32());
            if left < 32 {
                r >>= 32 - left;
            }
            out |= r << shift;
            shift += 32;
            left = left.saturating_sub(32);
        }
        out
    }

    /// `_randbelow_with_getrandbits(n)`.
    fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        let k = u64::BITS - n.leading_zeros();
        loop {
            let r = self.bits(k);
            if r < n {
                return r as usize;
            }
        }
    }
}

/// The 32-bit words of a non-negative big integer given as big-endian bytes, least first.
fn words_of(be: &[u8]) -> Vec<u32> {
    let mut words: Vec<u32> = be
        .rchunks(4)
        .map(|c| c.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
        .collect();
    while words.len() > 1 && words.last() == Some(&0) {
        words.pop();
    }
    if words.is_empty() {
        words.push(0);
    }
    words
}

/// `random.Random(seed)` for an int or str seed (version 2 seeding).
fn seeded(seed: &Value) -> Result<Mt, Error> {
    let key = match seed.kind() {
        ValueKind::Number if seed.is_integer() => {
            let n = i128::try_from(seed.clone()).map_err(|_| invalid("bad seed"))?;
            words_of(&n.unsigned_abs().to_be_bytes())
        }
        ValueKind::Bool => vec![u32::from(seed.is_true())],
        ValueKind::String => {
            use sha2::Digest;
            let mut bytes = py_str(seed).into_bytes();
            let digest = sha2::Sha512::digest(&bytes);
            bytes.extend_from_slice(&digest);
            words_of(&bytes)
        }
        _ => {
            return Err(invalid(format!(
                "hactl cannot seed shuffle with a {} (it takes an int or a str)",
                python_type(seed)
            )));
        }
    };
    Ok(Mt::by_array(&key))
}

/// `shuffle(seed=None)`: Python's `random.Random(seed).shuffle`.
pub(super) fn shuffle(value: &Value, seed: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    defined(value)?;
    let seed = match seed {
        Some(s) => Some(s),
        None => kwargs.get::<Option<Value>>("seed")?,
    };
    kwargs.assert_all_used()?;
    let Ok(iter) = value.try_iter() else {
        return Ok(value.clone());
    };
    let mut list: Vec<Value> = iter.collect();
    let mut mt = match seed.filter(|s| s.is_true()) {
        Some(s) => seeded(&s)?,
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            Mt::by_array(&words_of(&nanos.to_be_bytes()))
        }
    };
    for i in (1..list.len()).rev() {
        let j = mt.below(i + 1);
        list.swap(i, j);
    }
    Ok(Value::from(list))
}

/// `random(start=None, step=None, seed=None)`: Python's `Random(seed).randrange` for an
/// integer end, `choice` for a list; without a seed the pick is random.
pub(super) fn random(
    value: &Value,
    start: Option<i64>,
    step: Option<i64>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    defined(value)?;
    let start = start.or(kwargs.get::<Option<i64>>("start")?);
    let step = step.or(kwargs.get::<Option<i64>>("step")?);
    let seed: Option<Value> = kwargs.get("seed")?;
    kwargs.assert_all_used()?;
    let mut mt = match seed.filter(|s| !s.is_none()) {
        Some(s) => seeded(&s)?,
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            Mt::by_array(&words_of(&nanos.to_be_bytes()))
        }
    };
    match value.kind() {
        ValueKind::Number if value.is_integer() => {
            let end = i64::try_from(value.clone()).map_err(|e| invalid(e.to_string()))?;
            let start = start.filter(|s| *s != 0).unwrap_or(0);
            let step = step.filter(|s| *s != 0).unwrap_or(1);
            let width = end - start;
            let n = if step == 1 {
                width
            } else if step > 0 {
                (width + step - 1) / step
            } else {
                (width + step + 1) / step
            };
            if n <= 0 {
                return Err(invalid(format!(
                    "empty range in randrange({start}, {end}, {step})"
                )));
            }
            Ok(Value::from(start + step * mt.below(n as usize) as i64))
        }
        ValueKind::Seq | ValueKind::String | ValueKind::Map => {
            if start.is_some_and(|s| s != 0) || step.is_some_and(|s| s != 0) {
                return Err(invalid(
                    "start and step can only be used with integer values",
                ));
            }
            let items: Vec<Value> = value.try_iter()?.collect();
            if items.is_empty() {
                return Err(invalid("Cannot choose from an empty sequence"));
            }
            let i = mt.below(items.len());
            Ok(items[i].clone())
        }
        _ => Err(invalid("random can only be used on sequences and integers")),
    }
}

/// `urlsplit(query='')`: Python's `urllib.parse.urlsplit` as a dict or one part.
pub(super) fn urlsplit(value: &Value, query: Option<String>) -> Result<Value, Error> {
    let url = text(value)?;
    let mut rest = url.as_str();
    let mut scheme = String::new();
    if let Some(i) = rest.find(':') {
        let cand = &rest[..i];
        if cand.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && cand
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            scheme = cand.to_ascii_lowercase();
            rest = &rest[i + 1..];
        }
    }
    let mut netloc = "";
    if let Some(r) = rest.strip_prefix("//") {
        let end = r.find(['/', '?', '#']).unwrap_or(r.len());
        netloc = &r[..end];
        rest = &r[end..];
    }
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (path, q) = rest.split_once('?').unwrap_or((rest, ""));
    let (userinfo, hostport) = match netloc.rfind('@') {
        Some(i) => (Some(&netloc[..i]), &netloc[i + 1..]),
        None => (None, netloc),
    };
    let (username, password) = match userinfo {
        None => (Value::from(()), Value::from(())),
        Some(u) => match u.split_once(':') {
            Some((a, b)) => (Value::from(a), Value::from(b)),
            None => (Value::from(u), Value::from(())),
        },
    };
    let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
        match h.split_once(']') {
            Some((h, p)) => (h.to_string(), p.strip_prefix(':').unwrap_or("")),
            None => (h.to_string(), ""),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p),
            None => (hostport.to_string(), ""),
        }
    };
    let hostname = if host.is_empty() {
        Value::from(())
    } else {
        Value::from(host.to_lowercase())
    };
    let port = if port.is_empty() {
        Value::from(())
    } else {
        let n: u32 = port
            .parse()
            .ok()
            .filter(|n| *n <= 65535)
            .ok_or_else(|| invalid(format!("Port out of range 0-65535 ({port})")))?;
        Value::from(n)
    };
    let parts = [
        ("fragment", Value::from(fragment)),
        ("hostname", hostname),
        ("netloc", Value::from(netloc)),
        ("password", password),
        ("path", Value::from(path)),
        ("port", port),
        ("query", Value::from(q)),
        ("scheme", Value::from(scheme)),
        ("username", username),
    ];
    match query.filter(|q| !q.is_empty()) {
        None => Ok(Value::from_pairs(parts.map(|(k, v)| (Value::from(k), v)))),
        Some(q) => parts
            .into_iter()
            .find(|(k, _)| *k == q)
            .map(|(_, v)| v)
            .ok_or_else(|| invalid(format!("urlsplit: unknown URL component: {q}"))),
    }
}

/// `strftime(second=None, utc=False)`: Python's `time.strftime`.
pub(super) fn strftime(
    value: &Value,
    second: Option<Value>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let format = text(value)?;
    let second = match second {
        Some(s) => Some(s),
        None => kwargs.get::<Option<Value>>("second")?,
    };
    let utc = kwargs.get::<Option<bool>>("utc")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    let secs = match second.filter(|s| !s.is_none()) {
        None => None,
        Some(s) => Some(
            f64::try_from(s.clone())
                .ok()
                .or_else(|| py_str(&s).trim().parse().ok())
                .ok_or_else(|| {
                    invalid(format!("Invalid value for epoch value ({})", py_str(&s)))
                })?,
        ),
    };
    let when = match secs {
        Some(s) => chrono::DateTime::from_timestamp(s.floor() as i64, 0)
            .ok_or_else(|| invalid(format!("Invalid value for epoch value ({s})")))?,
        None => chrono::Utc::now(),
    };
    format_time(&format, &when, utc)
}

fn format_time(
    format: &str,
    when: &chrono::DateTime<chrono::Utc>,
    utc: bool,
) -> Result<String, Error> {
    use std::fmt::Write;
    let mut out = String::new();
    let bad = |_| invalid(format!("strftime: unsupported format {format:?}"));
    if utc {
        write!(out, "{}", when.format(format)).map_err(bad)?;
    } else {
        write!(out, "{}", when.with_timezone(&chrono::Local).format(format)).map_err(bad)?;
    }
    Ok(out)
}

/// A `datetime.datetime` from `now()`: its fields, `strftime()` and Python's `str()`.
#[derive(Debug)]
pub struct PyDateTime(chrono::NaiveDateTime);

impl PyDateTime {
    pub fn new(t: chrono::NaiveDateTime) -> Self {
        PyDateTime(t)
    }
}

impl Object for PyDateTime {
    fn repr(self: &std::sync::Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Plain
    }

    fn get_value(self: &std::sync::Arc<Self>, key: &Value) -> Option<Value> {
        use chrono::{Datelike, Timelike};
        let d = &self.0;
        Some(Value::from(match key.as_str()? {
            "year" => i64::from(d.year()),
            "month" => i64::from(d.month()),
            "day" => i64::from(d.day()),
            "hour" => i64::from(d.hour()),
            "minute" => i64::from(d.minute()),
            "second" => i64::from(d.second()),
            "microsecond" => i64::from(d.nanosecond() / 1000),
            _ => return None,
        }))
    }

    fn call_method(
        self: &std::sync::Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "strftime" => {
                let fmt = args.first().map(py_str).unwrap_or_default();
                let mut out = String::new();
                std::fmt::Write::write_fmt(&mut out, format_args!("{}", self.0.format(&fmt)))
                    .map_err(|_| invalid(format!("strftime: unsupported format {fmt:?}")))?;
                Ok(Value::from(out))
            }
            "isoformat" => Ok(Value::from(
                self.0.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
            )),
            _ => Err(Error::from(minijinja::ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &std::sync::Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use chrono::Timelike;
        if self.0.nanosecond() / 1000 == 0 {
            write!(f, "{}", self.0.format("%Y-%m-%d %H:%M:%S"))
        } else {
            write!(f, "{}", self.0.format("%Y-%m-%d %H:%M:%S%.6f"))
        }
    }
}

/// `now(utc=False, fmt=None)`.
pub(super) fn now(kwargs: Kwargs) -> Result<Value, Error> {
    let utc = kwargs.get::<Option<bool>>("utc")?.unwrap_or(false);
    let fmt: Option<String> = kwargs.get("fmt")?;
    kwargs.assert_all_used()?;
    let t = chrono::Utc::now();
    if let Some(fmt) = fmt {
        return format_time(&fmt, &t, utc).map(Value::from);
    }
    let naive = if utc {
        t.naive_utc()
    } else {
        t.with_timezone(&chrono::Local).naive_local()
    };
    Ok(Value::from_object(PyDateTime(naive)))
}

/// `regex_escape(re_type='python')`.
pub(super) fn regex_escape(value: &Value, re_type: Option<String>) -> Result<String, Error> {
    let s = text(value)?;
    match re_type.as_deref().unwrap_or("python") {
        "python" => Ok(crate::template::regex::escape(&s)),
        "posix_basic" => {
            let mut out = String::new();
            for c in s.chars() {
                if "].[^$*\\".contains(c) {
                    out.push('\\');
                }
                out.push(c);
            }
            Ok(out)
        }
        "posix_extended" => Err(invalid("Regex type (posix_extended) not yet implemented")),
        other => Err(invalid(format!("Invalid regex type ({other})"))),
    }
}

/// Jinja2's `center(width=80)`: Python's `str.center`.
pub(super) fn center(value: &Value, width: Option<usize>) -> Result<String, Error> {
    Ok(py_center(&text(value)?, width.unwrap_or(80), ' '))
}

/// Python's `str.center(width, fill)`: the extra odd space goes left when the text's length is odd.
pub fn py_center(s: &str, width: usize, fill: char) -> String {
    let len = s.chars().count();
    if width <= len {
        return s.to_string();
    }
    let marg = width - len;
    let left = marg / 2 + (marg & width & 1);
    let f = fill.to_string();
    format!("{}{s}{}", f.repeat(left), f.repeat(marg - left))
}

/// Python equality key for `unique`: numbers and booleans compare by value.
fn unique_key(v: &Value, case_sensitive: bool) -> Value {
    match v.kind() {
        ValueKind::Bool => Value::from(i64::from(v.is_true())),
        ValueKind::String if !case_sensitive => Value::from(py_str(v).to_lowercase()),
        _ => v.clone(),
    }
}

/// Ansible's `unique(case_sensitive=None, attribute=None)`, which is Jinja2's `unique`.
pub(super) fn unique(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    defined(value)?;
    let case_sensitive = kwargs
        .get::<Option<Value>>("case_sensitive")?
        .is_some_and(|v| v.is_true());
    let attribute: Option<String> = kwargs.get("attribute")?;
    kwargs.assert_all_used()?;
    let mut seen: Vec<Value> = Vec::new();
    let mut out = Vec::new();
    for item in value.try_iter()? {
        let key_src = match &attribute {
            Some(a) => {
                use super::GetPath;
                let v = item.get_path(a).unwrap_or_default();
                if v.is_undefined() {
                    return Err(invalid(format!(
                        "Jinja2's unique filter failed and we cannot fall back to Ansible's version as it does not support the parameters supplied: object of type '{}' has no attribute '{a}'",
                        python_type(&item)
                    )));
                }
                v
            }
            None => item.clone(),
        };
        let key = unique_key(&key_src, case_sensitive);
        if !seen.contains(&key) {
            seen.push(key);
            out.push(item);
        }
    }
    Ok(Value::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mersenne_twister_like_cpython() {
        // random.Random(42).getrandbits(32) in CPython 3.11.
        let mut mt = seeded(&Value::from(42)).expect("seed");
        assert_eq!(mt.next_u32(), 2746317213);
        assert_eq!(py_center("ab", 7, ' '), "   ab  ");
        assert_eq!(py_center("abc", 6, '*'), "*abc**");
        assert_eq!(py_round(2.5), 2);
        // random.Random('big').randrange(10**12), random.Random(7).randrange(2**40).
        let mut big = seeded(&Value::from("big")).expect("seed");
        assert_eq!(big.below(1_000_000_000_000), 608018280422);
        let mut seven = seeded(&Value::from(7)).expect("seed");
        assert_eq!(seven.below(1 << 40), 868231286071);
        assert_eq!(py_round(3.5), 4);
    }
}
