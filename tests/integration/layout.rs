//! The source layout: dependencies run one way, error/readback <- model <- data <- io <-
//! classify <- train <- bench <- limits <- session <- web, and no two files use each other (no cycle at all).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LAYERS: [&[&str]; 10] = [
    &["error", "readback"],
    &["model"],
    &["data"],
    &["io"],
    &["classify"],
    &["train"],
    &["bench"],
    &["limits"],
    &["session"],
    &["web"],
];

fn layer(top: &str) -> usize {
    LAYERS.iter().position(|l| l.contains(&top)).unwrap_or_else(|| panic!("module '{top}' is in no layer"))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() && !path.ends_with("bin") {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file that defines `crate::a::b::...`: the longest prefix that is a file.
fn resolve(src: &Path, segments: &[&str]) -> Option<PathBuf> {
    (1..=segments.len()).rev().find_map(|n| {
        let base = segments[..n].iter().fold(src.to_path_buf(), |p, s| p.join(s));
        [base.with_extension("rs"), base.join("mod.rs")].into_iter().find(|p| p.exists())
    })
}

/// A source file without its comment lines: comments (doc links included) name modules without
/// using them.
fn code(file: &Path) -> String {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Every path `text` names after `crate::`: `crate::a::b::C` gives `[a, b, C]`, and a group
/// `crate::{a, b::{c, D}}` gives `[a]`, `[b, c]` and `[b, D]`.
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    fn expand(rest: &str, mut path: Vec<String>, out: &mut Vec<Vec<String>>) {
        let rest = rest.trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut start) = (0, 0);
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth > 0 => depth -= 1,
                    ',' | '}' if depth == 0 => {
                        expand(&group[start..j], path.clone(), out);
                        if c == '}' {
                            return;
                        }
                        start = j + 1;
                    }
                    _ => {}
                }
            }
            return;
        }
        let segment: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if !segment.is_empty() {
            path.push(segment);
            if let Some(next) = rest[path.last().unwrap().len()..].strip_prefix("::") {
                return expand(next, path, out);
            }
        }
        if !path.is_empty() {
            out.push(path);
        }
    }
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        expand(&text[i + "crate::".len()..], Vec::new(), &mut out);
    }
    out
}

/// Every `crate::path` a file names, and `child::` paths of the modules it declares.
fn uses(src: &Path, file: &Path) -> BTreeSet<PathBuf> {
    let text = code(file);
    let dir = file.parent().unwrap();
    let children: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod ").or_else(|| l.trim().strip_prefix("mod ")))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect();
    let mut out = BTreeSet::new();
    for path in crate_paths(&text) {
        if let Some(target) = resolve(src, &path.iter().map(String::as_str).collect::<Vec<_>>()) {
            out.insert(target);
        }
    }
    for child in &children {
        for pattern in [format!("use {child}::"), format!(" {child}::")] {
            if text.contains(&pattern) {
                if let Some(target) = resolve(dir, &[child.as_str()]) {
                    out.insert(target);
                }
            }
        }
    }
    out.remove(file);
    out
}

fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string()
}

#[test]
fn dependencies_run_one_way_and_no_file_uses_one_that_uses_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let graph: BTreeMap<PathBuf, BTreeSet<PathBuf>> =
        files.iter().filter(|f| !f.ends_with("lib.rs")).map(|f| (f.clone(), uses(&src, f))).collect();
    assert!(graph.len() > 30, "the walk found the sources");
    let mut upward = Vec::new();
    for (file, targets) in &graph {
        let from = layer(&top_module(&src, file));
        for t in targets {
            if layer(&top_module(&src, t)) > from {
                upward.push(format!("{} uses {}", file.display(), t.display()));
            }
        }
    }
    assert!(upward.is_empty(), "lower layers must not use higher ones:\n{}", upward.join("\n"));

    if let Some(cycle) = cycle(&graph) {
        panic!("files that use each other: {cycle}");
    }
}

/// A cycle of files that use each other, as `a -> b -> a`, if there is one (depth-first).
fn cycle(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Option<String> {
    fn visit<'a>(
        f: &'a PathBuf,
        g: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        stack: &mut Vec<&'a PathBuf>,
        done: &mut BTreeSet<&'a PathBuf>,
    ) -> Option<String> {
        if let Some(at) = stack.iter().position(|s| *s == f) {
            return Some(stack[at..].iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" -> "));
        }
        if !done.insert(f) {
            return None;
        }
        stack.push(f);
        for t in g.get(f).into_iter().flatten() {
            if let Some(cycle) = visit(t, g, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|f| visit(f, graph, &mut Vec::new(), &mut done))
}

/// The CLI, `src/bin/vanillanet/`, is a crate of its own: its `crate::` is that folder, and it
/// reaches the library only by the library's name, `vanillanet::` (never by compiling library
/// files into itself with `#[path]` or `include!`). Its files too use each other one way.
#[test]
fn the_cli_uses_the_library_by_name_and_no_two_of_its_files_use_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let cli = src.join("bin").join("vanillanet");
    let mut files = Vec::new();
    sources(&cli, &mut files);
    assert!(files.len() > 5 && files.contains(&cli.join("main.rs")), "the walk found the CLI's sources");
    let mut strays = Vec::new();
    for file in &files {
        let text = code(file);
        if text.contains("#[path") || text.contains("include!(") {
            strays.push(format!("{} compiles another file into the CLI (#[path] or include!)", file.display()));
        }
        for path in crate_paths(&text) {
            if resolve(&cli, &path.iter().map(String::as_str).collect::<Vec<_>>()).is_none() {
                strays.push(format!("{} names crate::{}, no file of the CLI", file.display(), path.join("::")));
            }
        }
    }
    assert!(strays.is_empty(), "the CLI reaches the library only as `vanillanet::`:\n{}", strays.join("\n"));
    let graph: BTreeMap<PathBuf, BTreeSet<PathBuf>> = files.iter().map(|f| (f.clone(), uses(&cli, f))).collect();
    assert!(graph[&cli.join("main.rs")].len() > 5, "main uses the commands it dispatches to");
    if let Some(cycle) = cycle(&graph) {
        panic!("files of the CLI that use each other: {cycle}");
    }
}

/// The source files of the crate and the page: `.rs` under `src/`; `.js`, `.html` and `.css`
/// under `www/` but for vendored code, data and the built engine.
fn all_sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                if !["vendor", "data", "pkg"].contains(&name.as_str()) {
                    walk(&path, out);
                }
            } else if ["rs", "js", "html", "css"].iter().any(|e| path.extension().is_some_and(|x| x == *e)) {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    walk(&root.join("src"), &mut out);
    walk(&root.join("www"), &mut out);
    out
}

#[test]
fn every_source_file_has_one_job_and_the_architecture_names_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // ARCHITECTURE.md's Layout section, up to the next section or the end of the file.
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let layout = &architecture[architecture.find("## Layout").expect("ARCHITECTURE.md has a Layout section")..];
    let layout = &layout[..layout[3..].find("\n## ").map_or(layout.len(), |end| end + 3)];
    let files = all_sources();
    assert!(files.len() > 80, "the walk found the sources");
    let mut long = Vec::new();
    let mut unnamed = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
        let lines = std::fs::read_to_string(f).unwrap().lines().count();
        if lines > 400 {
            long.push(format!("{rel}: {lines} lines"));
        }
        // A file by its name (`inspect.rs`); a module's `mod.rs` by its folder (`trainer/`), and
        // the folder too for a file in a sub-folder.
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let parent = f.parent().unwrap().file_name().unwrap().to_string_lossy().to_string();
        let named = if name == "mod.rs" || name == "lib.rs" {
            name == "lib.rs" || layout.contains(&format!("`{parent}/`"))
        } else {
            layout.contains(&format!("`{name}`"))
                || layout.contains(&format!("`{parent}/{name}`"))
                || layout.contains(&format!("`{}`", name.rsplit_once('.').unwrap().0))
        };
        if !named {
            unnamed.push(rel);
        }
    }
    assert!(long.is_empty(), "files over 400 lines do more than one job:\n{}", long.join("\n"));
    assert!(unnamed.is_empty(), "ARCHITECTURE.md's Layout section does not name:\n{}", unnamed.join("\n"));
}
