//! The `backprop` binary: everything is in the library's `cli` module; this only connects it to
//! the process (its arguments, its output streams and its exit code).

fn main() {
    let words: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let code = backprop::cli::main_with(
        &words,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    std::process::exit(code);
}
