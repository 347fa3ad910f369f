//! The users function. Its routes arrive with the admin API and check issues;
//! until then this binary only proves the workspace layout builds.

fn main() {
    eprintln!("the users function is not wired yet");
    std::process::exit(1);
}
