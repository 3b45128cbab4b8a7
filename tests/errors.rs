//! The inventory of user mistakes: every bad flag, file and folder gets one helpful line.
//!
//! Each case runs the real binary and checks that it exits with code 2, that stderr is exactly
//! one line starting `error: `, that the line names the culprit (the flag, the file and line, the
//! value), and that nothing panicked.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn backprop(args: &[&str]) -> Outcome {
    let output = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(args)
        .output()
        .expect("the backprop binary runs");
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A scratch folder for this test binary, emptied on first use: under Cargo's own scratch space
/// for integration tests (`target/tmp/`), so a run leaves nothing in the system's temporary
/// folder and the next run starts from an empty one.
fn scratch() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("errors");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
    .clone()
}

fn write(name: &str, contents: &[u8]) -> String {
    let path = scratch().join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_string_lossy().into_owned()
}

/// Runs `args` and checks the clean-error contract; `needles` must all appear in the message.
fn assert_clean_error(args: &[&str], needles: &[&str]) {
    let out = backprop(args);
    let shown = format!(
        "args {args:?}\n exit {:?}\n stderr {:?}\n stdout {:?}",
        out.code, out.stderr, out.stdout
    );
    assert_eq!(out.code, Some(2), "{shown}");
    assert!(!out.stderr.contains("panicked"), "{shown}");
    assert!(!out.stderr.contains("RUST_BACKTRACE"), "{shown}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "stderr must be one line: {shown}");
    assert!(lines[0].starts_with("error: "), "{shown}");
    for needle in needles {
        assert!(lines[0].contains(needle), "missing {needle:?}: {shown}");
    }
}

#[test]
fn bad_flags_are_named_with_what_was_expected() {
    let out = scratch().join("flags-out");
    let out = out.to_str().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["train", "circles", "--lrr", "0.1"],
            &["--lrr", "did you mean '--lr'"],
        ),
        (
            &["train", "circles", "--lr", "abc"],
            &["--lr", "'abc'", "not a number"],
        ),
        (
            &["train", "circles", "--lr", "0"],
            &["--lr", "greater than 0"],
        ),
        (
            &["train", "circles", "--lr", "-1"],
            &["--lr", "greater than 0"],
        ),
        (&["train", "circles", "--lr", "NaN"], &["--lr", "NaN"]),
        (&["train", "circles", "--lr", "inf"], &["--lr", "inf"]),
        (&["train", "circles", "--lr"], &["--lr", "needs a value"]),
        (
            &["train", "circles", "--epochs", "0"],
            &["--epochs", "at least 1"],
        ),
        (
            &["train", "circles", "--epochs", "-3"],
            &["--epochs", "'-3'"],
        ),
        (
            &["train", "circles", "--epochs", "1.5"],
            &["--epochs", "'1.5'"],
        ),
        (
            &["train", "circles", "--hidden", "0"],
            &["--hidden", "0 units"],
        ),
        (
            &["train", "circles", "--hidden", "10,0"],
            &["--hidden", "0 units"],
        ),
        (
            &["train", "circles", "--hidden", "ten"],
            &["--hidden", "'ten'"],
        ),
        (
            &["train", "circles", "--hidden", "10,,5"],
            &["--hidden", "10,,5"],
        ),
        (
            &["train", "circles", "--dropout", "1"],
            &["--dropout", "[0, 1)"],
        ),
        (
            &["train", "circles", "--dropout", "1.5"],
            &["--dropout", "[0, 1)"],
        ),
        (
            &["train", "circles", "--dropout", "-0.1"],
            &["--dropout", "[0, 1)"],
        ),
        (
            &["train", "circles", "--batch-norm", "--batch-size", "1"],
            &["--batch-norm", "--batch-size 2 or more"],
        ),
        (
            &["train", "circles", "--test-fraction", "0"],
            &["--test-fraction", "between 0 and 1"],
        ),
        (
            &["train", "circles", "--test-fraction", "1"],
            &["--test-fraction", "between 0 and 1"],
        ),
        (
            &["train", "circles", "--test-fraction", "1.5"],
            &["--test-fraction"],
        ),
        (
            &["train", "circles", "--batch-size", "5000", "--out", out],
            &["--batch-size", "5000", "800"],
        ),
        (
            &["train", "circles", "--batch-size", "x"],
            &["--batch-size", "'x'"],
        ),
        (
            &["train", "circles", "--activation", "rely"],
            &["--activation", "'rely'", "relu"],
        ),
        (
            &["train", "circles", "--activation", "softmax"],
            &["--activation", "'softmax'"],
        ),
        (
            &["train", "circles", "--optimizer", "adamw"],
            &["--optimizer", "'adamw'", "adam"],
        ),
        (&["train", "circles", "--seed", "-1"], &["--seed", "'-1'"]),
        (
            &["train", "circles", "--samples", "2"],
            &["--samples", "at least"],
        ),
        (
            &["train", "circles", "--noise", "-1"],
            &["--noise", "0 or more"],
        ),
        (
            &["train", "circles", "--clip", "0"],
            &["--clip", "greater than 0"],
        ),
        (
            &["train", "circles", "--lr-decay", "2"],
            &["--lr-decay", "(0, 1]"],
        ),
        (
            &["train", "circles", "--l2", "-0.1"],
            &["--l2", "0 or more"],
        ),
        (
            &["train", "circles", "--quiet=1"],
            &["--quiet", "takes no value"],
        ),
        (
            &["train", "circles", "--regression", "--classification"],
            &["--regression", "--classification"],
        ),
        (&["train", "circles", "sine"], &["one task"]),
        (
            &["train", "circle"],
            &["'circle'", "did you mean 'circles'"],
        ),
        (&["train", "-x"], &["'-x'"]),
        (&["trian"], &["'trian'", "did you mean 'train'"]),
        (&["frobnicate"], &["'frobnicate'", "commands are"]),
    ];
    for (args, needles) in cases {
        assert_clean_error(args, needles);
    }
    eprintln!("{} bad command lines, each a clean error", cases.len());
}

#[test]
fn bad_csv_files_are_named_with_line_and_column() {
    let header = "a,b,label\n";
    let missing = scratch().join("no-such-file.csv");
    let folder = scratch().join("folder.csv");
    std::fs::create_dir_all(&folder).unwrap();
    let empty = write("empty.csv", b"");
    let header_only = write("header_only.csv", header.as_bytes());
    let ragged = write("ragged.csv", format!("{header}1,2,x\n3,4\n").as_bytes());
    let text_feature = write("text.csv", format!("{header}1,2,x\n3,abc,y\n").as_bytes());
    let missing_value = write(
        "missing_value.csv",
        format!("{header}1,2,x\n3,,y\n").as_bytes(),
    );
    let nan = write("nan.csv", format!("{header}1,2,x\nNaN,4,y\n").as_bytes());
    let inf = write("inf.csv", format!("{header}1,2,x\n3,inf,y\n").as_bytes());
    let one_class = write(
        "one_class.csv",
        format!("{header}1,2,x\n3,4,x\n5,6,x\n").as_bytes(),
    );
    let two_rows = write("two_rows.csv", format!("{header}1,2,x\n3,4,y\n").as_bytes());
    let open_quote = write(
        "open_quote.csv",
        format!("{header}1,2,\"x\n3,4,y\n").as_bytes(),
    );
    let not_utf8 = write("latin1.csv", b"a,b,label\n1,2,caf\xe9\n3,4,x\n");
    let one_column = write("one_column.csv", b"label\nx\ny\n");
    let text_regression = write(
        "text_regression.csv",
        format!("{header}1,2,x\n3,4,y\n5,6,x\n").as_bytes(),
    );

    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["train", missing.to_str().unwrap()],
            vec!["no-such-file.csv", "no such file"],
        ),
        (
            vec!["train", folder.to_str().unwrap()],
            vec!["folder.csv", "cannot read"],
        ),
        (vec!["train", &empty], vec!["empty.csv", "empty"]),
        (
            vec!["train", &header_only],
            vec!["header_only.csv", "no data rows"],
        ),
        (
            vec!["train", &ragged],
            vec!["ragged.csv", "line 3", "2 fields", "header has 3"],
        ),
        (
            vec!["train", &text_feature],
            vec!["text.csv", "line 3", "column 2", "'abc'"],
        ),
        (
            vec!["train", &missing_value],
            vec!["missing_value.csv", "line 3", "column 2", "missing"],
        ),
        (
            vec!["train", &nan],
            vec!["nan.csv", "line 3", "column 1", "'NaN'"],
        ),
        (
            vec!["train", &inf],
            vec!["inf.csv", "line 3", "column 2", "'inf'"],
        ),
        (
            vec!["train", &one_class],
            vec!["one_class.csv", "only one class", "'x'"],
        ),
        (
            vec!["train", &two_rows],
            vec!["two_rows", "2 rows", "--test-fraction"],
        ),
        (
            vec!["train", &open_quote],
            vec!["open_quote.csv", "line 2", "quoted"],
        ),
        (vec!["train", &not_utf8], vec!["latin1.csv", "UTF-8"]),
        (
            vec!["train", &one_column],
            vec!["one_column.csv", "line 1", "at least one feature"],
        ),
        (
            vec!["train", &text_regression, "--regression"],
            vec!["text_regression.csv", "line 2", "column 3", "'x'"],
        ),
    ];
    for (args, needles) in &cases {
        assert_clean_error(args, needles);
    }
    eprintln!("{} bad CSV files, each a clean error", cases.len());
}

#[test]
fn quoted_fields_with_commas_are_read_not_rejected() {
    let quoted = write(
        "quoted.csv",
        b"\"size, cm\",weight,\"kind\"\n1,2,\"small, round\"\n1.5,2.5,\"small, round\"\n9,9,big\n8,9.5,big\n8.5,9,big\n1.2,2.1,\"small, round\"\n",
    );
    let out_dir = scratch().join("quoted-out");
    let out = backprop(&[
        "train",
        &quoted,
        "--quiet",
        "--epochs",
        "5",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("2 → 16 relu → 1 sigmoid"),
        "{}",
        out.stdout
    );
}

#[test]
fn an_output_folder_that_cannot_be_written_is_an_error_before_training() {
    // A folder cannot be created inside a regular file, whoever runs the test (even root).
    let file = write("a-file", b"not a folder");
    let inside = Path::new(&file).join("out");
    assert_clean_error(
        &["train", "circles", "--out", inside.to_str().unwrap()],
        &["output folder", "a-file", "--out"],
    );
    // Refused at the door: no history was written beside the bad folder either.
    assert!(!Path::new(&file).with_file_name("history.csv").exists());
}

#[test]
fn bad_model_files_and_predict_inputs_are_named() {
    let folder = scratch().join("model-out");
    let model = scratch().join("xor-model.txt");
    let trained = backprop(&[
        "train",
        "xor",
        "--quiet",
        "--out",
        folder.to_str().unwrap(),
        "--save",
        model.to_str().unwrap(),
    ]);
    assert_eq!(trained.code, Some(0), "{}", trained.stderr);
    let good = std::fs::read_to_string(&model).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let edited = |name: &str, f: &dyn Fn(&str) -> String| write(name, f(&good).as_bytes());

    let truncated = write("truncated.txt", lines[..5].join("\n").as_bytes());
    let version = edited("version.txt", &|t| {
        t.replacen("backprop-model 2", "backprop-model 7", 1)
    });
    let other_format = write("other.txt", b"{\"weights\": [1, 2]}\n");
    let not_a_number = edited("nan_weight.txt", &|t| {
        let w_line = t.lines().find(|l| l.starts_with("W ")).unwrap();
        t.replacen(w_line, "W 0.5 zero 0.25 0.125", 1)
    });
    let shapes = edited("shapes.txt", &|t| {
        t.replacen("layer 3 dense 4 1", "layer 3 dense 5 1", 1)
    });
    let empty = write("empty_model.txt", b"");
    let missing = scratch().join("no-model.txt");
    let three_columns = write("three.csv", b"a,b,c,label\n1,2,3,x\n");

    let m = |p: &str| p.to_string();
    let model_path = model.to_string_lossy().into_owned();
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (
            vec![
                m("predict"),
                m("--model"),
                missing.to_string_lossy().into_owned(),
                m("1,0"),
            ],
            vec!["no-model.txt", "no such file"],
        ),
        (
            vec![m("predict"), m("--model"), empty.clone(), m("1,0")],
            vec!["empty_model.txt", "line 1"],
        ),
        (
            vec![m("predict"), m("--model"), truncated.clone(), m("1,0")],
            vec!["truncated.txt", "truncated"],
        ),
        (
            vec![m("predict"), m("--model"), version.clone(), m("1,0")],
            vec!["version.txt", "line 1", "version 7"],
        ),
        (
            vec![m("predict"), m("--model"), other_format.clone(), m("1,0")],
            vec!["other.txt", "line 1"],
        ),
        (
            vec![m("predict"), m("--model"), not_a_number.clone(), m("1,0")],
            vec!["nan_weight.txt", "'zero'"],
        ),
        (
            vec![m("predict"), m("--model"), shapes.clone(), m("1,0")],
            vec!["shapes.txt", "layer 3"],
        ),
        (
            vec![m("predict"), m("--model"), model_path.clone(), m("1,0,3")],
            vec!["'1,0,3'", "3 values", "takes 2"],
        ),
        (
            vec![m("predict"), m("--model"), model_path.clone(), m("1,x")],
            vec!["'x'", "not a finite number"],
        ),
        (
            vec![
                m("predict"),
                m("--model"),
                model_path.clone(),
                m("--data"),
                three_columns.clone(),
            ],
            vec!["three.csv", "takes 2 features"],
        ),
        (vec![m("predict"), m("1,0")], vec!["--model"]),
    ];
    for (args, needles) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_clean_error(&args, needles);
    }
    eprintln!(
        "{} bad model files and predict inputs, each a clean error",
        cases.len()
    );
}

#[test]
fn empty_and_non_ascii_words_are_errors_not_panics() {
    // A first letter of several bytes (é, σ) or an empty word once crashed the flag parser.
    let cases: &[(&[&str], &[&str])] = &[
        (&["train", "é.csv"], &["é.csv"]),
        (&["train", ""], &["unknown task ''"]),
        (&["train", "σ"], &["unknown task 'σ'"]),
        (&["train", "-é"], &["unknown flag '-é'"]),
        (&["demo", ""], &["unknown demo task ''"]),
        (&["plot", ""], &["unknown figure ''"]),
        (&["predict", "--model", ""], &["model file name is empty"]),
    ];
    for (args, needles) in cases {
        assert_clean_error(args, needles);
    }
}

#[test]
fn flags_that_mean_nothing_for_the_data_are_refused_not_ignored() {
    let csv = write("kind.csv", b"a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,0,0\n");
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["train", "iris", "--samples", "50"],
            &["--samples", "generated tasks only", "'iris'"],
        ),
        (
            &["train", "breast_cancer", "--noise", "0.1"],
            &["--noise", "generated tasks only"],
        ),
        (
            &["train", &csv, "--samples", "50"],
            &["--samples", "generated tasks only"],
        ),
        (
            &["train", "circles", "--regression"],
            &["--regression", "CSV data only", "'circles'"],
        ),
        (
            &["train", "sine", "--classification"],
            &["--classification", "CSV data only"],
        ),
    ];
    for (args, needles) in cases {
        assert_clean_error(args, needles);
    }
}

#[test]
fn a_bad_csv_leaves_no_empty_output_folder() {
    let bad = write("bad-rows.csv", b"a,b,y\n1,2,0\n3,oops,1\n");
    let out = scratch().join("bad-rows-out");
    assert_clean_error(
        &["train", &bad, "--out", out.to_str().unwrap()],
        &["bad-rows.csv", "oops"],
    );
    assert!(!out.exists(), "the folder {} was created", out.display());
}

#[test]
fn every_output_path_is_checked_before_the_first_epoch() {
    // Each of these would once have trained first and failed after (digits takes a while).
    let a_folder = scratch().join("save-into-me");
    std::fs::create_dir_all(&a_folder).unwrap();
    let out = scratch().join("never-made");
    let out_text = out.to_str().unwrap();
    assert_clean_error(
        &[
            "train",
            "digits",
            "--save",
            a_folder.to_str().unwrap(),
            "--out",
            out_text,
        ],
        &["--save", "save-into-me", "is a folder", "model.txt"],
    );
    assert_clean_error(
        &["train", "digits", "--save", "", "--out", out_text],
        &["--save", "file name is empty"],
    );
    assert!(
        !out.exists(),
        "a bad --save left the folder {} behind",
        out.display()
    );
    // The model cannot take the name of a file the run writes itself beside it.
    let run = scratch().join("clash");
    assert_clean_error(
        &[
            "train",
            "digits",
            "--out",
            run.to_str().unwrap(),
            "--save",
            run.join("summary.json").to_str().unwrap(),
        ],
        &["--save", "summary.json", "another name"],
    );
    assert_clean_error(
        &["train", "digits", "--out", ""],
        &["--out", "folder name is empty"],
    );
}

#[test]
fn misspelt_flags_from_other_tools_suggest_ours() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["train", "circles", "--learning-rate", "0.1"],
            &["did you mean '--lr'"],
        ),
        (
            &["train", "circles", "--learning_rate=0.1"],
            &["did you mean '--lr'"],
        ),
        (
            &["train", "circles", "-lr", "0.1"],
            &["'-lr'", "did you mean '--lr'"],
        ),
        (
            &["train", "circles", "--batch", "10"],
            &["did you mean '--batch-size'"],
        ),
        (
            &["train", "circles", "--batch_size", "10"],
            &["did you mean '--batch-size'"],
        ),
        (
            &["train", "circles", "--layers", "10,10"],
            &["did you mean '--hidden'"],
        ),
        (
            &["train", "circles", "--hidden-layers", "10"],
            &["did you mean '--hidden'"],
        ),
        (
            &["train", "circles", "--weight-decay", "0.1"],
            &["did you mean '--l2'"],
        ),
        (
            &["train", "circles", "--iterations", "10"],
            &["did you mean '--epochs'"],
        ),
        (
            &["train", "circles", "--output", "x"],
            &["did you mean '--out'"],
        ),
        (&["train", "circles", "-o", "x"], &["did you mean '--out'"]),
        (
            &["train", "circles", "--random-seed", "1"],
            &["did you mean '--seed'"],
        ),
        (
            &["train", "circles", "--test-size", "0.3"],
            &["did you mean '--test-fraction'"],
        ),
        (
            &["train", "circles", "--model", "m.txt"],
            &["did you mean '--save'"],
        ),
        (
            &["compare", "depths", "--dataset", "moons"],
            &["did you mean '--task'"],
        ),
        (
            &["predict", "--model", "m.txt", "--input", "x.csv"],
            &["did you mean '--data'"],
        ),
        (
            &["train", "circles", "--frobnicate"],
            &["see 'backprop train --help'"],
        ),
    ];
    for (args, needles) in cases {
        assert_clean_error(args, needles);
    }
}
