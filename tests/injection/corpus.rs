//! The shell contexts of the injection corpus. `@V@` stands for the
//! placeholder (`{{ inputs.v }}`, `{{ env.INJ_V }}` ...), `@N@` for the
//! context's index (for file names of its own). Scripts run under drctl's
//! default shell, `bash -euo pipefail -c`, in the test's directory.

fn same(p: &str) -> String {
    p.to_owned()
}

fn line(p: &str) -> String {
    format!("{p}\n")
}

fn twice(p: &str) -> String {
    format!("{p}{p}")
}

fn first_line(p: &str) -> String {
    p.split('\n').next().unwrap_or("").to_owned()
}

fn joined(p: &str) -> String {
    p.replace('\n', "")
}

type Expected = fn(&str) -> String;

/// Contexts that take the value as data: each prints what `expected` says.
pub const ACCEPTED: &[(&str, Expected)] = &[
    ("printf '%s' @V@", same),
    ("printf '%s' \"@V@\"", same),
    ("printf '%s' '@V@'", same),
    ("printf '%s' x@V@y", |p| format!("x{p}y")),
    ("printf '%s' a\"@V@\"b'@V@'c", |p| format!("a{p}b{p}c")),
    ("printf '%s' \"pre-\"@V@\"-post\"", |p| {
        format!("pre-{p}-post")
    }),
    ("printf '%s' @V@@V@", twice),
    ("printf '%s-%s' @V@ @V@", |p| format!("{p}-{p}")),
    ("printf -- '%s' @V@", same),
    ("x=@V@; printf '%s' \"$x\"", same),
    ("x=\"@V@\"; printf '%s' \"$x\"", same),
    ("x='@V@'; printf '%s' \"$x\"", same),
    ("x=@V@ && printf '%s' \"$x\"", same),
    ("x=@V@; y=$x; printf '%s' \"$y\"", same),
    ("f() { local x=@V@; printf '%s' \"$x\"; }; f", same),
    (
        "f() { local a=@V@ b=\"@V@\"; printf '%s%s' \"$a\" \"$b\"; }; f",
        twice,
    ),
    ("export X=@V@; printf '%s' \"$X\"", same),
    ("export A=@V@ B=x; printf '%s' \"$A\"", same),
    ("declare x=@V@; printf '%s' \"$x\"", same),
    ("declare -r x=@V@; printf '%s' \"$x\"", same),
    ("declare -x x=@V@; printf '%s' \"$x\"", same),
    ("readonly x=@V@; printf '%s' \"$x\"", same),
    ("typeset x=@V@; printf '%s' \"$x\"", same),
    ("cat <<EOF\n@V@\nEOF", line),
    ("cat <<-EOF\n\t@V@\n\tEOF", line),
    ("cat <<EOF\nprefix @V@ suffix\nEOF", |p| {
        format!("prefix {p} suffix\n")
    }),
    ("cat <<EOF | cat\n@V@\nEOF", line),
    ("x=$(cat <<EOF\n@V@\nEOF\n); printf '%s' \"$x\"", same),
    (
        "cat <<EOF\n@V@\nEOF\necho x | bash -c 'cat >/dev/null'",
        line,
    ),
    ("x=$(printf '%s' @V@); printf '%s' \"$x\"", same),
    ("printf '%s' \"$(printf '%s' @V@)\"", same),
    (
        "printf '%s' \"$(printf '%s' \"$(printf '%s' @V@)\")\"",
        same,
    ),
    ("printf '%s' \"$(cat <<< @V@)\"", same),
    ("case @V@ in *) printf '%s' matched;; esac", |_| {
        "matched".to_owned()
    }),
    (
        "case \"@V@\" in \"@V@\") printf '%s' same;; *) printf '%s' differ;; esac",
        |_| "same".to_owned(),
    ),
    (
        "case x@V@ in x@V@) printf '%s' same;; *) printf '%s' differ;; esac",
        |_| "same".to_owned(),
    ),
    (
        "a=(@V@ \"@V@\"); printf '%s|%s' \"${a[0]}\" \"${a[1]}\"",
        |p| format!("{p}|{p}"),
    ),
    ("a=(); a+=(@V@); printf '%s' \"${a[0]}\"", same),
    ("a=(x @V@); printf '%s' \"${a[1]}\"", same),
    ("a[1]=@V@; printf '%s' \"${a[1]}\"", same),
    ("env X=@V@ bash -c 'printf \"%s\" \"$X\"'", same),
    ("X=@V@ bash -c 'printf \"%s\" \"$X\"'", same),
    ("env -i X=@V@ /bin/bash -c 'printf \"%s\" \"$X\"'", same),
    ("awk -v x=@V@ 'BEGIN { printf \"%s\", x }'", same),
    ("awk '{ printf \"%s\", $0 }' <<< @V@", joined),
    ("sed -n p <<< @V@", line),
    ("printf '%s\\0' @V@ | xargs -0 echo", line),
    ("printf '%s' @V@ | xargs -0 printf '%s'", same),
    ("printf '%s\\0' ok | xargs -0 -I{} printf '%s' @V@", same),
    (
        "mkdir -p d@N@ && : > d@N@/f && find d@N@ -name f -exec printf '%s' @V@ \\;",
        same,
    ),
    (
        "mkdir -p efind && : > efind/f && find efind -name f -exec echo @V@ {} +",
        |p| format!("{p} efind/f\n"),
    ),
    ("bash -c 'printf \"%s\" \"$1\"' _ @V@", same),
    ("sh -c 'printf \"%s\" \"$1\"' sh @V@", same),
    ("bash -euc 'printf \"%s\" \"$1\"' _ \"@V@\"", same),
    (
        "printf '%s' 'printf \"%s\" \"$1\"' > s@N@.sh; bash s@N@.sh @V@",
        same,
    ),
    (
        "bash -c 'IFS= read -r -d \"\" x || true; printf \"%s\" \"$x\"' <<< @V@",
        line,
    ),
    ("sh -c 'cat' <<< @V@", line),
    (
        "python3 -c 'import sys; sys.stdout.write(sys.argv[1])' @V@",
        same,
    ),
    (
        "python3 -c 'import sys; sys.stdout.write(sys.stdin.read())' <<< @V@",
        line,
    ),
    ("perl -e 'print $ARGV[0]' -- @V@", same),
    ("jq -jn --arg v @V@ '$v'", same),
    (
        "node -e 'process.stdout.write(process.argv[1])' -- @V@",
        same,
    ),
    ("printf '%s' @V@ > o@N@.txt; cat o@N@.txt", same),
    ("printf '%s' @V@ > \"p@N@-@V@\"; cat -- \"p@N@-@V@\"", same),
    ("cat <<< @V@", line),
    (
        "IFS= read -r -d '' x <<< @V@ || true; printf '%s' \"$x\"",
        line,
    ),
    (
        "mapfile -t arr <<< @V@; printf '%s' \"${arr[0]}\"",
        first_line,
    ),
    (
        "IFS= read -r x < <(printf '%s' @V@) || true; printf '%s' \"$x\"",
        first_line,
    ),
    ("printf '%s' @V@ | cat", same),
    ("printf '%s' @V@ | tr -d '\\000'", same),
    ("printf '%s' @V@ 2>&1 | cat", same),
    ("printf '%s' @V@ | { cat; }", same),
    ("f() { cat; }; printf '%s' @V@ | f", same),
    (
        "printf '%s' @V@ | tee t@N@.txt >/dev/null; cat t@N@.txt",
        same,
    ),
    ("cat <(printf '%s' @V@)", same),
    ("cat -- <(printf '%s' @V@)", same),
    (
        "diff <(printf '%s' @V@) <(printf '%s' @V@) && printf '%s' same",
        |_| "same".to_owned(),
    ),
    (
        "printf '%s\\n' @V@ | while IFS= read -r l; do printf '%s' \"$l\"; done",
        joined,
    ),
    ("[[ @V@ == \"@V@\" ]] && printf '%s' same", |_| {
        "same".to_owned()
    }),
    ("[[ x@V@ == x* ]] && printf '%s' yes", |_| "yes".to_owned()),
    ("[[ -n \"@V@\" || -z \"@V@\" ]] && printf '%s' ok", |_| {
        "ok".to_owned()
    }),
    ("[ \"@V@\" = \"@V@\" ] && printf '%s' same", |_| {
        "same".to_owned()
    }),
    ("test -n \"@V@\" || test -z \"@V@\"; printf '%s' @V@", same),
    ("if [ \"x@V@\" != x ]; then printf '%s' @V@; fi", same),
    ("for x in @V@; do printf '%s' \"$x\"; done", same),
    ("for x in a @V@ b; do printf '%s,' \"$x\"; done", |p| {
        format!("a,{p},b,")
    }),
    ("f() { printf '%s' \"$1\"; }; f @V@", same),
    ("function f { printf '%s' \"$1\"; }; f @V@", same),
    ("( printf '%s' @V@ )", same),
    ("{ printf '%s' @V@; }", same),
    ("if true; then printf '%s' @V@; fi", same),
    (
        "n=0; while [ $n -lt 1 ]; do printf '%s' @V@; n=1; done",
        same,
    ),
    ("true && printf '%s' @V@ || false", same),
    ("command printf '%s' @V@", same),
    ("builtin printf '%s' @V@", same),
    ("env printf '%s' @V@", same),
    ("nice -n 5 printf '%s' @V@", same),
    ("timeout 10 printf '%s' @V@", same),
    ("nohup printf '%s' @V@ 2>/dev/null", same),
    ("stdbuf -o0 printf '%s' @V@", same),
    ("time printf '%s' @V@ 2>/dev/null", same),
    ("(exec printf '%s' @V@)", same),
    ("echo \"@V@\"", line),
    ("trap 'printf \"%s\" \"$X\"' EXIT; X=@V@", same),
    ("printf '%s' \"@V@\" >&2; printf '%s' @V@", same),
    ("# a comment with {{ nothing }}\nprintf '%s' @V@", same),
    ("printf '%s' @V@ # {{ not.a.placeholder }}", same),
];

/// Contexts that would run the value as code: refused, naming the flow.
pub const REFUSED: &[(&str, &str)] = &[
    ("eval \"printf '%s' @V@\"", "`eval`"),
    ("eval printf '%s' @V@", "`eval`"),
    ("eval \"$(printf '%s' @V@)\"", "`eval`"),
    ("bash -c \"printf '%s' @V@\"", "`bash -c`"),
    ("bash -c 'printf \"%s\" @V@'", "`bash -c`"),
    ("sh -ec \"echo @V@\"", "`sh -c`"),
    ("bash -c \"$(printf '%s' @V@)\"", "`bash -c`"),
    ("/bin/bash -c @V@", "`bash -c`"),
    (
        "bash <<< @V@",
        "bash's standard input through a here-string",
    ),
    (
        "bash <<< \"echo @V@\"",
        "bash's standard input through a here-string",
    ),
    (
        "bash -s <<< @V@",
        "bash's standard input through a here-string",
    ),
    (
        "bash <<EOF\necho @V@\nEOF",
        "bash's standard input through a heredoc",
    ),
    ("bash /dev/stdin <<EOF\n@V@\nEOF", "/dev/stdin"),
    (
        "cat <<EOF | bash\n@V@\nEOF",
        "bash's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | bash",
        "bash's standard input through a pipe",
    ),
    ("printf '%s' @V@ | bash /dev/stdin", "/dev/stdin"),
    ("printf '%s' @V@ | sh /dev//stdin", "/dev//stdin"),
    (
        "printf '%s' @V@ | bash --rcfile /dev/null",
        "standard input through a pipe",
    ),
    ("printf '%s' @V@ | \"$BASH\"", "command name"),
    (
        "echo $(printf '%s' @V@) | bash",
        "standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | { bash; }",
        "standard input through a pipe",
    ),
    (
        "f() { bash; }; printf '%s' @V@ | f",
        "standard input through a pipe",
    ),
    ("source /dev/stdin <<< @V@", "/dev/stdin"),
    (". /dev/stdin <<< @V@", "/dev/stdin"),
    ("source /dev/fd/0 <<< @V@", "/dev/fd/0"),
    ("source /dev/fd/3 3<<< @V@", "/dev/fd/3"),
    ("source <(printf '%s' @V@)", "process substitution"),
    ("bash <(printf '%s' @V@)", "process substitution"),
    (
        "bash < <(printf '%s' @V@)",
        "through a process substitution",
    ),
    ("printf '%s' @V@ > >(bash)", "bash's standard input"),
    (
        "printf '%s' @V@ | tee >(bash) >/dev/null",
        "bash's standard input",
    ),
    ("cat <<EOF > >(bash)\n@V@\nEOF", "bash's standard input"),
    (
        "bash -c 'source /dev/stdin' <<< @V@",
        "standard input of `bash -c '...'`",
    ),
    (
        "sh -c 'eval \"$(cat)\"' <<< @V@",
        "standard input of `sh -c '...'`",
    ),
    ("command -p eval @V@", "`eval`"),
    ("command -- eval @V@", "`eval`"),
    ("builtin -- eval @V@", "`eval`"),
    ("time -p eval @V@", "`eval`"),
    ("\\eval @V@", "`eval`"),
    ("'eval' @V@", "`eval`"),
    ("exec bash -c @V@", "`bash -c`"),
    ("nohup bash -c @V@", "`bash -c`"),
    ("nice -n 1 bash -c @V@", "`bash -c`"),
    ("timeout 5 bash -c @V@", "`bash -c`"),
    ("sudo -u root bash -c @V@", "`bash -c`"),
    ("sudo -s @V@", "shell option"),
    ("doas bash -c @V@", "`bash -c`"),
    ("env bash -c @V@", "`bash -c`"),
    ("env -S 'bash -c' @V@", "`bash -c`"),
    ("env -i PATH=/bin bash -c @V@", "`bash -c`"),
    ("env @V@ true", "options of `env`"),
    ("setsid bash -c @V@", "`bash -c`"),
    ("stdbuf -oL bash -c @V@", "`bash -c`"),
    ("chroot / bash -c @V@", "`bash -c`"),
    ("busybox sh -c @V@", "`sh -c`"),
    ("printf '%s' @V@ | xargs -0 bash -c", "`bash -c`"),
    ("printf '%s' @V@ | xargs -I{} sh -c 'echo {}'", "`sh -c`"),
    ("find . -maxdepth 0 -exec bash -c @V@ \\;", "`bash -c`"),
    ("flock /tmp/x -c @V@", "`flock -c`"),
    ("script -qc @V@ /dev/null", "`script -c`"),
    ("watch -n1 @V@", "`watch`"),
    ("compgen -W @V@", "`compgen -W`"),
    ("ssh -o ProxyCommand=@V@ host true", "ssh's -o option"),
    ("ssh -o @V@ host", "ssh's -o option"),
    ("ssh host @V@", "remote command of `ssh`"),
    ("ssh @V@", "where ssh reads options"),
    (
        "ssh host <<< @V@",
        "ssh's standard input through a here-string",
    ),
    (
        "printf '%s' @V@ | ssh host",
        "ssh's standard input through a pipe",
    ),
    ("function f { eval @V@; }; f", "`eval`"),
    ("f() { eval @V@; }; f", "`eval`"),
    ("$'eval' @V@", "command name"),
    ("e=eval; $e @V@", "command name"),
    ("\"$e\" @V@", "command name"),
    ("$(echo eval) @V@", "command name"),
    ("x=@V@; $x", "command name"),
    ("x=@V@; eval \"$x\"", "`eval`"),
    (
        "printf '%s' @V@ | while read -r l; do eval \"$l\"; done",
        "`eval`",
    ),
    ("arr=([@V@]=1)", "subscript"),
    ("declare -a arr=([@V@]=1)", "subscript"),
    ("arr+=([@V@]=1)", "subscript"),
    ("a[@V@]=1", "subscript"),
    ("a[$(printf '%s' @V@)]=1", "subscript"),
    ("awk \"BEGIN { print \\\"@V@\\\" }\"", "`awk`"),
    ("awk '{ print \"@V@\" }'", "`awk`"),
    ("gawk -f <(printf '%s' @V@)", "process substitution"),
    ("awk -f /dev/stdin <<< @V@", "awk's standard input"),
    ("sed \"s/x/@V@/\"", "`sed`"),
    ("sed -e @V@ file", "`sed -e`"),
    ("perl -e \"print '@V@'\"", "`perl -e`"),
    ("perl -e 'print 1' @V@", "where `perl` reads options"),
    (
        "perl <<EOF\n@V@\nEOF",
        "perl's standard input through a heredoc",
    ),
    ("python3 -c \"print('@V@')\"", "`python3 -c`"),
    (
        "python3 <<< @V@",
        "python3's standard input through a here-string",
    ),
    ("python3 - <<< @V@", "python3's standard input"),
    ("ruby -e \"puts '@V@'\"", "`ruby -e`"),
    ("node -e \"console.log('@V@')\"", "`node -e`"),
    ("jq \".x == \\\"@V@\\\"\"", "`jq`"),
    ("psql -c \"select '@V@'\"", "`psql -c`"),
    ("psql <<< @V@", "psql's standard input"),
    ("psql -v x=@V@ -c 'select :x'", "`psql -v`"),
    ("mysql -e \"select '@V@'\"", "`mysql -e`"),
    ("sqlite3 db \"select '@V@'\"", "`sqlite3`"),
    ("make X=@V@", "`make`"),
    ("git -c core.sshCommand=@V@ fetch", "`git -c`"),
    ("git clone @V@ d", "where `git` reads options"),
    ("tar -cf x.tar --to-command=@V@ .", "`tar --to-command`"),
    ("rsync -e @V@ a b", "`rsync -e`"),
    ("su -c @V@", "`su -c`"),
    ("su root -c \"echo @V@\"", "`su -c`"),
    ("trap \"echo @V@\" EXIT", "`trap`"),
    ("alias x=@V@", "`alias`"),
    ("let x=@V@", "`let`"),
    ("declare -i n=@V@", "option `-i`"),
    ("declare -i n; n=@V@", "declared as an integer"),
    ("f() { local -n r=@V@; }; f", "option `-n`"),
    ("declare @V@", "as the name in `declare`"),
    (
        "f() { local -a a; local a=@V@; }; f",
        "is an array, integer or nameref",
    ),
    ("a=(); declare a=@V@", "is an array, integer or nameref"),
    ("PS4=@V@", "PS4"),
    ("BASH_ENV=@V@ bash -c true", "BASH_ENV"),
    ("env LD_PRELOAD=@V@ true", "LD_PRELOAD"),
    ("(( @V@ ))", "arithmetic"),
    ("echo $(( @V@ + 1 ))", "arithmetic"),
    ("echo $[ @V@ ]", "arithmetic"),
    ("for (( i = 0; i < @V@; i++ )); do :; done", "arithmetic"),
    ("[[ @V@ -eq 1 ]]", "arithmetic comparison"),
    ("[[ $(printf '%s' @V@) -gt 0 ]]", "arithmetic comparison"),
    ("[[ -v @V@ ]]", "after -v"),
    ("[ @V@ @V@ ]", "not the operand of a literal"),
    ("read @V@", "`read`"),
    ("mapfile @V@ <<< x", "`mapfile`"),
    ("getopts @V@ opt", "`getopts`"),
    ("unset @V@", "`unset`"),
    ("printf -v @V@ x", "`printf -v`"),
    ("printf @V@ @V@", "where `printf` reads options"),
    ("complete -C @V@ x", "`complete -C`"),
    ("@V@", "as the command name"),
    ("@V@ arg", "as the command name"),
    ("sudo @V@", "as the command name"),
    ("@V@() { :; }", "function name"),
    ("for @V@ in a; do :; done", "variable name of `for`"),
    ("echo ${x:-@V@}", "parameter expansion"),
    ("echo `echo @V@`", "backticks"),
    ("echo $'@V@'", "$'...'"),
    ("cat <<'EOF'\n@V@\nEOF", "quoted heredoc"),
    ("kubectl exec pod -- bash -c @V@", "`bash -c`"),
    ("kubectl exec -it pod -- sh -c @V@", "`sh -c`"),
    ("docker exec c bash -c @V@", "`bash -c`"),
    ("docker run --rm img sh -c @V@", "`sh -c`"),
    ("docker run --name x img sh -c @V@", "`sh -c`"),
    ("exec <<< @V@; bash", "bash's standard input"),
    ("exec 3<<< @V@; source /dev/fd/3", "/dev/fd/3"),
    ("f() { eval \"$1\"; }; f @V@", "`eval`"),
    ("f() { bash -c \"$*\"; }; f x @V@", "`bash -c`"),
    (
        "bash -c 'eval \"$1\"' _ @V@",
        "the arguments of `bash -c '...'`",
    ),
    (
        "sh -c 'sh -c \"$1\"' sh @V@",
        "the arguments of `sh -c '...'`",
    ),
    (
        "printf '%s' @V@ > w@N@.sh; bash w@N@.sh",
        "a file the script writes it into",
    ),
    (
        "printf '%s' @V@ > ./w@N@.sh; . w@N@.sh",
        "a file the script writes it into",
    ),
    (
        "printf '%s' @V@ | tee w@N@.sh; chmod +x w@N@.sh; ./w@N@.sh",
        "runs a file the script writes",
    ),
    (
        "cat > w@N@.sh <<EOF\n@V@\nEOF\nbash < w@N@.sh",
        "a file the script writes the value into",
    ),
    (
        "mkfifo p@N@; bash < p@N@ & printf '%s' @V@ > p@N@",
        "a file the script writes the value into",
    ),
];
