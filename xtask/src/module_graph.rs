//! No crate of the workspace has a circle of files: the top-level modules
//! of each crate's `src/` (a submodule counts as its top-level module) form
//! a graph through their `crate::X` and `super::X` references, and that
//! graph must be acyclic, so that each module can be read, tested and
//! changed on top of the ones below it.
//!
//! The crate root (`lib.rs`, `main.rs`) declares every module and is left
//! out; so is `src/bin/`, whose files are crate roots of their own. Comments
//! and string literals are not code, and only references to a module that is
//! a file of the crate count. The workspace's members are read from the root
//! `Cargo.toml`, so a new crate is checked as soon as it is listed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module and the other top-level modules it refers to.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The graph of a crate whose `src/` holds `files`: each path relative to
/// `src/`, with its text.
fn module_graph(files: &[(PathBuf, String)]) -> Graph {
    let modules: Vec<(Vec<String>, &str)> = files
        .iter()
        .filter_map(|(path, text)| Some((module_path(path)?, text.as_str())))
        .collect();
    let top_level: BTreeSet<&str> = modules
        .iter()
        .filter_map(|(path, _)| path.first().map(String::as_str))
        .collect();
    let mut graph = Graph::new();
    for (path, text) in &modules {
        let Some(own) = path.first() else {
            continue;
        };
        let referred = graph.entry(own.clone()).or_default();
        for module in referred_top_level_modules(path, text) {
            if module != *own && top_level.contains(module.as_str()) {
                referred.insert(module);
            }
        }
    }
    graph
}

/// The module a file under `src/` holds (`[]` for the crate root), or
/// `None` for what is not a module of the crate: a file that is not Rust,
/// or one under `bin/`.
fn module_path(path: &Path) -> Option<Vec<String>> {
    if path.extension()? != "rs" || path.starts_with("bin") {
        return None;
    }
    let mut segments: Vec<String> = path
        .with_extension("")
        .iter()
        .map(|segment| segment.to_string_lossy().into_owned())
        .collect();
    match segments.last().map(String::as_str) {
        Some("mod") => {
            segments.pop();
        }
        Some("lib" | "main") if segments.len() == 1 => segments.clear(),
        _ => {}
    }
    Some(segments)
}

/// The top-level modules `text`, the file of module `path`, names through
/// `crate::X`, `crate::{X, ..}` and `super::X` (with as many `super`s as
/// lead to the crate root, counting inline `mod x { .. }` blocks).
fn referred_top_level_modules(path: &[String], text: &str) -> BTreeSet<String> {
    let tokens = tokens(&code_only(text));
    let mut referred = BTreeSet::new();
    // The inline modules the scan is in, with the brace depth each opened at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0_usize;
    for (at, token) in tokens.iter().enumerate() {
        let next = |offset: usize| tokens.get(at + offset).map(String::as_str);
        match token.as_str() {
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, opened)| *opened == depth) {
                    inline.pop();
                }
            }
            "mod" if next(2) == Some("{") => {
                if let Some(name) = next(1) {
                    inline.push((name.to_owned(), depth));
                }
            }
            "crate" if next(1) == Some("::") => referred.extend(path_heads(&tokens[at + 2..])),
            "super" if at == 0 || tokens[at - 1] != "::" => {
                let supers = tokens[at..]
                    .chunks(2)
                    .take_while(|pair| pair == &["super", "::"])
                    .count();
                let here = path.len() + inline.len();
                if supers == here {
                    referred.extend(path_heads(&tokens[at + 2 * supers..]));
                }
            }
            _ => {}
        }
    }
    referred
}

/// The first segment of the path that `tokens` start with, or of each path
/// in a `{ .. }` group.
fn path_heads(tokens: &[String]) -> Vec<String> {
    match tokens.first().map(String::as_str) {
        Some("{") => {
            let mut heads = Vec::new();
            let mut depth = 0;
            let mut expecting_head = true;
            for token in &tokens[1..] {
                match token.as_str() {
                    "{" => depth += 1,
                    "}" if depth == 0 => break,
                    "}" => depth -= 1,
                    "," if depth == 0 => expecting_head = true,
                    head if expecting_head && is_identifier(head) => {
                        heads.push(head.to_owned());
                        expecting_head = false;
                    }
                    _ => expecting_head = false,
                }
            }
            heads
        }
        Some(head) if is_identifier(head) => vec![head.to_owned()],
        _ => Vec::new(),
    }
}

fn is_identifier(token: &str) -> bool {
    token
        .chars()
        .next()
        .is_some_and(|first| first.is_alphabetic() || first == '_')
}

/// `text` with its comments and string and character literals blanked out.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut code = String::with_capacity(text.len());
    let mut at = 0;
    let identifier_before =
        |at: usize| at > 0 && (chars[at - 1].is_alphanumeric() || chars[at - 1] == '_');
    while at < chars.len() {
        let rest = &chars[at..];
        let skipped = match rest {
            ['/', '/', ..] => rest.iter().position(|&c| c == '\n').unwrap_or(rest.len()),
            ['/', '*', ..] => block_comment_length(rest),
            ['"', ..] => quoted_length(rest, '"'),
            ['\'', '\\', ..] => quoted_length(rest, '\''),
            ['\'', _, '\'', ..] => 3,
            ['r', '#' | '"', ..] if !identifier_before(at) || chars[at - 1] == 'b' => {
                raw_string_length(rest)
            }
            _ => 0,
        };
        if skipped == 0 {
            code.push(chars[at]);
            at += 1;
        } else {
            code.push(' ');
            at += skipped;
        }
    }
    code
}

/// The length of the (possibly nested) block comment `text` starts with.
fn block_comment_length(text: &[char]) -> usize {
    let mut depth = 0;
    let mut at = 0;
    while at < text.len() {
        match &text[at..] {
            ['/', '*', ..] => {
                depth += 1;
                at += 2;
            }
            ['*', '/', ..] => {
                depth -= 1;
                at += 2;
                if depth == 0 {
                    return at;
                }
            }
            _ => at += 1,
        }
    }
    text.len()
}

/// The length of the literal `text` starts with, up to its closing `quote`.
fn quoted_length(text: &[char], quote: char) -> usize {
    let mut at = 1;
    while at < text.len() {
        match text[at] {
            '\\' => at += 2,
            c if c == quote => return at + 1,
            _ => at += 1,
        }
    }
    text.len()
}

/// The length of the raw string `text` starts with (`r"…"`, `r#"…"#`), or
/// 0 if it is an identifier starting with `r` after all.
fn raw_string_length(text: &[char]) -> usize {
    let hashes = text[1..].iter().take_while(|&&c| c == '#').count();
    if text.get(1 + hashes) != Some(&'"') {
        return 0;
    }
    let closing: Vec<char> = std::iter::once('"')
        .chain(std::iter::repeat_n('#', hashes))
        .collect();
    let body = 2 + hashes;
    text[body..]
        .windows(closing.len())
        .position(|window| window == closing.as_slice())
        .map_or(text.len(), |end| body + end + closing.len())
}

/// Identifiers (keywords included), `::`, and every other character but
/// white space on its own.
fn tokens(code: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            let mut word = String::from(c);
            while let Some(&next) = chars.peek()
                && (next.is_alphanumeric() || next == '_')
            {
                word.push(next);
                chars.next();
            }
            tokens.push(word);
        } else if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            tokens.push("::".to_owned());
        } else if !c.is_whitespace() {
            tokens.push(c.to_string());
        }
    }
    tokens
}

/// A circle in `graph`, as the modules along it with the first again at the
/// end, or `None` if there is none.
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    /// Depth-first: `trail` is the path from the current root; a module met
    /// again while on it closes a circle.
    fn visit<'a>(
        module: &'a str,
        graph: &'a Graph,
        trail: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(start) = trail.iter().position(|&on| on == module) {
            let mut circle: Vec<String> = trail[start..].iter().map(|&m| m.to_owned()).collect();
            circle.push(module.to_owned());
            return Some(circle);
        }
        if done.contains(module) {
            return None;
        }
        trail.push(module);
        for next in graph.get(module).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, trail, done) {
                return Some(circle);
            }
        }
        trail.pop();
        done.insert(module);
        None
    }

    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|module| visit(module, graph, &mut Vec::new(), &mut done))
}

/// The `members` of the `[workspace]` table of the manifest `text`.
fn workspace_members(text: &str) -> Vec<String> {
    let workspace = text
        .split("\n[")
        .find(|table| table.trim_start_matches('[').starts_with("workspace]"))
        .expect("the root Cargo.toml has a [workspace] table");
    let members = workspace
        .split_once("members")
        .and_then(|(_, rest)| rest.split_once('['))
        .and_then(|(_, rest)| rest.split_once(']'))
        .map_or("", |(list, _)| list);
    members
        .split(',')
        .map(|member| member.trim().trim_matches('"'))
        .filter(|member| !member.is_empty())
        .inspect(|member| assert!(!member.contains('*'), "globs in members are not read"))
        .map(str::to_owned)
        .collect()
}

/// Every file under `dir`, with its path relative to `root`.
fn files_under(root: &Path, dir: &Path, files: &mut Vec<(PathBuf, String)>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files_under(root, &path, files);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let relative = path.strip_prefix(root).expect("under root").to_path_buf();
            files.push((relative, text));
        }
    }
}

#[test]
fn no_crate_has_a_circle_of_files() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace");
    let manifest = std::fs::read_to_string(workspace.join("Cargo.toml")).expect("Cargo.toml");
    let mut circles = Vec::new();
    let mut checked = 0;
    for member in workspace_members(&manifest) {
        let src = workspace.join(&member).join("src");
        if !src.is_dir() {
            continue;
        }
        let mut files = Vec::new();
        files_under(&src, &src, &mut files);
        checked += 1;
        if let Some(circle) = cycle(&module_graph(&files)) {
            circles.push(format!("{member}/src: {}", circle.join(" -> ")));
        }
    }
    assert!(checked > 1, "no crate was found to check");
    assert!(
        circles.is_empty(),
        "modules that refer to each other, directly or around a circle:\n{}",
        circles.join("\n")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph_of(files: &[(&str, &str)]) -> Graph {
        let files: Vec<(PathBuf, String)> = files
            .iter()
            .map(|(path, text)| (PathBuf::from(path), (*text).to_owned()))
            .collect();
        module_graph(&files)
    }

    fn edges(graph: &Graph) -> Vec<(&str, &str)> {
        graph
            .iter()
            .flat_map(|(from, to)| to.iter().map(move |to| (from.as_str(), to.as_str())))
            .collect()
    }

    #[test]
    fn a_circle_through_a_submodule_is_found() {
        let graph = graph_of(&[
            ("lib.rs", "mod a; mod b; mod c;"),
            ("a.rs", "use crate::b::Thing;"),
            ("b/mod.rs", "mod inner;"),
            ("b/inner.rs", "fn f() { crate::c::g() }"),
            ("c.rs", "use super::{a, b};"),
        ]);
        assert_eq!(
            edges(&graph),
            [("a", "b"), ("b", "c"), ("c", "a"), ("c", "b")]
        );
        assert_eq!(cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
    }

    #[test]
    fn a_layered_crate_has_no_circle() {
        let graph = graph_of(&[
            ("main.rs", "mod low; mod high; use crate::high::run;"),
            (
                "low.rs",
                "pub fn f() {}\n#[cfg(test)]\nmod tests { use super::*; }",
            ),
            ("high.rs", "use crate::{low::{self, f}, VERSION};"),
            ("bin/tool.rs", "use crate::high;"),
        ]);
        assert_eq!(edges(&graph), [("high", "low")]);
        assert_eq!(cycle(&graph), None);
    }

    #[test]
    fn only_code_refers() {
        let text = r##"
            //! Uses [`crate::b`], /* and crate::b, /* nested */ crate::b */
            const A: &str = "crate::b::x";
            const B: &str = r#"use crate::b; "quoted" "#;
            const C: char = '"';
            fn f<'a>(x: &'a str) -> &'a str { x }
            pub(crate) fn g() {}
            mod tests { use super::b; }
        "##;
        let graph = graph_of(&[("a.rs", text), ("b.rs", "")]);
        assert!(edges(&graph).is_empty(), "{graph:?}");
    }

    #[test]
    fn super_reaches_the_root_from_the_right_depth() {
        let graph = graph_of(&[
            ("a/deep.rs", "use super::super::b; use super::sibling;"),
            ("a/sibling.rs", "mod tests { use super::super::super::c; }"),
            ("b.rs", ""),
            ("c.rs", ""),
        ]);
        assert_eq!(edges(&graph), [("a", "b"), ("a", "c")]);
    }

    #[test]
    fn members_are_read_from_the_workspace_table() {
        let manifest = "[workspace]\nmembers = [\n  \".\",\n  \"host\", \"rest-mcp\"\n]\nexclude = [\"x\"]\n\n[package]\nname = \"members\"\n";
        assert_eq!(workspace_members(manifest), [".", "host", "rest-mcp"]);
    }
}
