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
    ("runuser -u root -- printf '%s' @V@", same),
    ("setpriv --reuid=0 printf '%s' @V@", same),
    ("fakeroot printf '%s' @V@", same),
    ("capsh -- -c 'printf \"%s\" \"$1\"' _ @V@", same),
    (
        "sort -u -- <(printf '%s' @V@) > /dev/null; printf '%s' @V@",
        same,
    ),
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
    ("printf '%s' @V@ # {{ not.a.placeholder }}", same), // Taint carriers expanded plainly stay data (issue 9).
    ("x=@V@; printf '%s' \"${x}\"", same),
    ("x=@V@; printf '%s' \"${x-unset}\"", same),
    ("x=@V@; y=$(( 1 + 2 )); printf '%s%s' \"$y\" \"$x\"", |p| {
        format!("3{p}")
    }),
    ("arr=(@V@); printf '%s' \"${arr[@]}\"", same),
    ("arr=(@V@); printf '%s' \"${arr[0]}\"", same),
    ("set -- @V@; printf '%s' \"$1\"", same),
    ("printf -v out '%s' @V@; printf '%s' \"$out\"", same),
    ("export X=@V@; bash -c 'printf \"%s\" \"$X\"'", same),
    ("X=@V@ bash -c 'printf \"%s\" \"$X\"'", same),
    ("exec 3<<< @V@; cat <&3", line),
    ("f=w@N@.txt; printf '%s' @V@ > \"$f\"; cat \"$f\"", same),
    (
        "printf '%s' @V@ > w@N@.txt; cp w@N@.txt v@N@.txt; cat v@N@.txt",
        same,
    ),
    // Issue 9, third round: data readers on stdin, positional parameters,
    // files that are written but never run.
    ("printf '%s' @V@ | base64 | base64 -d", same),
    ("printf '%s' @V@ | gzip | gzip -dc", same),
    ("printf '%s' @V@ | xxd -p | xxd -r -p", same),
    ("printf '%s' @V@ | dd status=none", same),
    ("printf '%s' @V@ | head -c 100000 | cat", same),
    ("printf '%s' @V@ | wc -c", |p| format!("{}\n", p.len())),
    ("printf '%s\\n' @V@ | grep -c ''", |p| {
        format!("{}\n", p.matches('\n').count() + 1)
    }),
    ("printf '%s' @V@ | tr a-z A-Z", |p| p.to_ascii_uppercase()),
    ("printf '%s' @V@ | sed 's/e/E/g'", |p| p.replace('e', "E")),
    ("printf '%s' @V@ | perl -pe 's/a/b/g'", |p| {
        p.replace('a', "b")
    }),
    (
        "printf '%s' @V@ | python3 -c 'import sys; sys.stdout.write(sys.stdin.read().upper())'",
        |p| p.to_ascii_uppercase(),
    ),
    ("printf '%s' @V@ | jq -Rj .", joined),
    ("printf '%s' @V@ | tee t@N@a.txt | cat", same),
    (
        "printf '%s' @V@ | cp /dev/stdin c@N@.txt; cat c@N@.txt",
        same,
    ),
    (
        "mkdir -p m@N@ && printf '%s' @V@ > m@N@/f && cat m@N@/f",
        same,
    ),
    (
        "printf '%s' @V@ | { IFS= read -r -d '' x || true; printf '%s' \"$x\"; }",
        same,
    ),
    (
        "while IFS= read -r l; do printf '<%s>' \"$l\"; done < <(printf '%s\\n' @V@)",
        |p| p.split('\n').map(|l| ["<", l, ">"].concat()).collect(),
    ),
    ("x=@V@; printf '%s' \"${x^^}\"", |p| p.to_ascii_uppercase()),
    ("x=@V@; printf '%s' \"${#x}\"", |p| p.len().to_string()),
    ("x=@V@; [[ $x == \"$x\" ]] && printf '%s' \"$x\"", same),
    ("printf -v out '%s' @V@; printf '%s' \"$out\"", same),
    (
        "a=(@V@); for e in \"${a[@]}\"; do printf '%s' \"$e\"; done",
        same,
    ),
    ("declare -A m=([k]=@V@); printf '%s' \"${m[k]}\"", same),
    ("f() { printf '%s' \"$1\"; }; f @V@", same),
    ("f() { for a; do printf '%s' \"$a\"; done; }; f @V@", same),
    (
        "f() { for a in \"$@\"; do printf '[%s]' \"$a\"; done; }; f @V@ @V@",
        |p| format!("[{p}][{p}]"),
    ),
    (
        "f() { local x=$1; shift; printf '%s' \"$x\"; }; f @V@",
        same,
    ),
    ("g() { printf '%s' \"${@:2}\"; }; g a @V@", same),
    (
        "log() { printf '%s' \"$*\" >> l@N@.txt; }; log @V@; cat l@N@.txt",
        same,
    ),
    ("timeout 5 printf '%s' @V@", same),
    ("nice -n 5 printf '%s' @V@", same),
    ("flock l@N@.lock printf '%s' @V@", same),
    ("env X=@V@ printenv X", line),
    ("f() { cat; }; printf '%s' @V@ | f", same),
    (
        "printf '%s' @V@ | awk '$1 == \"x\" || $2 == \"y\" { n++ } END { printf \"%d\", NR }'",
        |p| {
            if p.is_empty() {
                "0".to_owned()
            } else {
                (p.matches('\n').count() + 1).to_string()
            }
        },
    ),
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
    // Issue 9: aliases, namerefs, descriptors, evaluating expansions,
    // other carriers, exported variables, code-carrying variables, commands.
    ("shopt -s expand_aliases\nalias e=eval\ne @V@", "`alias`"),
    ("set -o posix\nalias e=eval\ne @V@", "`alias`"),
    ("declare -n r; r=@V@; echo \"$r\"", "a nameref"),
    ("exec 3<<< @V@; bash <&3", "bash's standard input"),
    ("exec 3<<< @V@; bash 0<&3", "bash's standard input"),
    ("export PS4=@V@; set -x; true", "PS4"),
    ("x=@V@; echo \"${!x}\"", "indirect expansion"),
    ("x=@V@; echo \"${x@P}\"", "transformation"),
    ("x=@V@; echo ${x@P}", "transformation"),
    ("x=@V@; y=$x; echo \"${!y}\"", "indirect expansion"),
    ("x=@V@; echo \"${x:$x}\"", "offset or length"),
    ("x=@V@; echo \"${arr[$x]}\"", "array subscript"),
    ("x=@V@; echo \"$(( x ))\"", "used in arithmetic"),
    ("x=@V@; echo $(( $x + 1 ))", "used in arithmetic"),
    ("x=@V@; (( x > 1 ))", "used in arithmetic"),
    ("x=@V@; let y=x", "used in `let`"),
    ("x=@V@; declare -i y; y=x", "integer variable"),
    ("x=@V@; a[x]=1", "array subscript"),
    ("x=@V@; echo \"${x:-$(eval \"$x\")}\"", "`eval`"),
    ("arr=(@V@); \"${arr[@]}\"", "command name"),
    ("arr=(@V@); eval \"${arr[0]}\"", "`eval`"),
    ("set -- @V@; eval \"$1\"", "`eval`"),
    ("set -- @V@; \"$@\"", "command name"),
    ("printf -v cmd '%s' @V@; eval \"$cmd\"", "`eval`"),
    ("printf -v cmd '%s' @V@; $cmd", "command name"),
    ("mapfile -t a <<< @V@; eval \"${a[0]}\"", "`eval`"),
    (
        "export X=@V@; bash -c 'eval \"$X\"'",
        "exported to the environment of `bash -c",
    ),
    (
        "X=@V@ bash -c 'eval \"$X\"'",
        "exported to the environment of `bash -c",
    ),
    (
        "env X=@V@ bash -c '$X'",
        "exported to the environment of `bash -c",
    ),
    (
        "declare -x X=@V@; sh -c 'eval $X'",
        "exported to the environment of `sh -c",
    ),
    (
        "export X=@V@; bash -c 'echo $(( X ))'",
        "exported to the environment of `bash -c",
    ),
    ("GIT_SSH_COMMAND=@V@ git fetch", "GIT_SSH_COMMAND"),
    ("export GIT_SSH_COMMAND=@V@; git fetch", "GIT_SSH_COMMAND"),
    ("export BASH_ENV=@V@; bash -c true", "BASH_ENV"),
    ("export PATH=@V@", "PATH"),
    ("LD_PRELOAD=@V@ ls", "LD_PRELOAD"),
    ("env PAGER=@V@ man ls", "PAGER"),
    ("declare -x EDITOR=@V@", "EDITOR"),
    ("read -r PROMPT_COMMAND <<< @V@", "PROMPT_COMMAND"),
    ("for PATH in @V@; do :; done", "PATH"),
    ("hash -p @V@ ls", "`hash`"),
    ("fc -e @V@", "`fc`"),
    ("tmux new -d @V@", "`tmux`"),
    ("screen -dm bash -c @V@", "`screen`"),
    ("npx @V@", "`npx`"),
    ("npm exec @V@", "`npm`"),
    ("perl -ne print -- @V@", "two-argument open"),
    ("perl -pe 1 @V@", "two-argument open"),
    ("bc <<< @V@", "bc's standard input"),
    ("echo @V@ | ssh host bash", "bash's standard input"),
    ("echo @V@ | R --no-save", "R's standard input"),
    ("echo @V@ | pwsh", "pwsh's standard input"),
    ("echo @V@ | osascript", "osascript's standard input"),
    ("echo @V@ | redis-cli", "redis-cli's standard input"),
    (
        "f=w@N@.sh; printf '%s' @V@ > $f; sh $f",
        "a file the script writes",
    ),
    (
        "printf '%s' @V@ > w@N@.sh; cp w@N@.sh v@N@.sh; sh v@N@.sh",
        "a file the script writes",
    ),
    // Issue 9, third round: stdin of unknown programs, positional
    // parameters, remote runners, files that run, programs that run their
    // data (the new on-call engineer's and the attacker's scripts).
    (
        "printf '%s' @V@ | dd of=s.sh; bash s.sh",
        "the value reaches the program file of `bash` through a process substitution or a file the ",
    ),
    (
        "echo @V@ | install /dev/stdin s.sh; bash s.sh",
        "the value reaches the program file of `bash` through a process substitution or a file the ",
    ),
    (
        "g() { for a; do eval \"$a\"; done; }; g @V@",
        "the value is an operand of `eval`",
    ),
    (
        "echo @V@ | parallel",
        "the value reaches parallel's standard input through a pipe",
    ),
    (
        "echo @V@ | script -qc sh",
        "the value reaches the standard input of `script -c '...'`",
    ),
    (
        "echo @V@ | tcsh",
        "the value reaches tcsh's standard input through a pipe",
    ),
    (
        "echo @V@ | csh",
        "the value reaches csh's standard input through a pipe",
    ),
    (
        "echo @V@ | rc",
        "the value reaches rc's standard input through a pipe",
    ),
    (
        "echo @V@ | nu",
        "the value reaches nu's standard input through a pipe",
    ),
    (
        "echo @V@ | elvish",
        "the value reaches elvish's standard input through a pipe",
    ),
    (
        "echo @V@ | xonsh",
        "the value reaches xonsh's standard input through a pipe",
    ),
    (
        "echo @V@ | python3.11",
        "the value reaches python3's standard input through a pipe",
    ),
    (
        "echo @V@ | deno run -",
        "the value reaches deno's standard input (read as the program file -) through a pipe",
    ),
    (
        "echo @V@ | bun run -",
        "the value reaches bun's standard input (read as the program file -) through a pipe",
    ),
    (
        "echo @V@ | julia",
        "the value reaches julia's standard input through a pipe",
    ),
    (
        "echo @V@ | ghci",
        "the value reaches ghci's standard input through a pipe",
    ),
    (
        "echo @V@ | guile",
        "the value reaches guile's standard input through a pipe",
    ),
    (
        "echo @V@ | sbcl",
        "the value reaches sbcl's standard input through a pipe",
    ),
    (
        "echo @V@ | clisp",
        "the value reaches clisp's standard input through a pipe",
    ),
    (
        "echo @V@ | racket",
        "the value reaches racket's standard input through a pipe",
    ),
    (
        "echo @V@ | ed",
        "the value reaches ed's standard input through a pipe",
    ),
    (
        "echo @V@ | ex",
        "the value reaches ex's standard input through a pipe",
    ),
    (
        "echo @V@ | sqlplus",
        "the value reaches sqlplus's standard input through a pipe",
    ),
    (
        "echo @V@ | cqlsh",
        "the value reaches cqlsh's standard input through a pipe",
    ),
    (
        "echo @V@ | mongosh",
        "the value reaches mongosh's standard input through a pipe",
    ),
    (
        "echo @V@ | redis-cli --eval /dev/stdin",
        "the value reaches redis-cli's standard input (read as the program file /dev/stdin) through",
    ),
    (
        "echo @V@ | kubectl apply -f -",
        "the value reaches kubectl's standard input through a pipe",
    ),
    (
        "echo @V@ | gcloud compute ssh vm",
        "the value reaches gcloud's standard input through a pipe",
    ),
    (
        "echo @V@ | aws ssm start-session",
        "the value reaches aws's standard input through a pipe",
    ),
    (
        "ansible all -m shell -a @V@",
        "the value is the argument of `ansible -a`",
    ),
    (
        "salt '*' cmd.run @V@",
        "the value is an argument of `salt ... cmd.run`",
    ),
    (
        "curl --config <(echo @V@) http://x",
        "the value is in `curl --config`, whose argument is code, a script or settings parsed from ",
    ),
    (
        "wget -e @V@ http://x",
        "the value is the argument of `wget -e`",
    ),
    (
        "zip x.zip f -TT @V@",
        "a template where `zip` reads options",
    ),
    ("psql @V@", "a template where `psql` reads options"),
    (
        "openssl req -config <(echo @V@)",
        "the value reaches a file that openssl reads",
    ),
    (
        "ln -s @V@ f; bash f",
        "the value reaches the program file of `bash` through a process substitution or a file the ",
    ),
    (
        "cp @V@ s.sh; bash s.sh",
        "the value reaches the program file of `bash` through a process substitution or a file the ",
    ),
    (
        "install @V@ s.sh; sh s.sh",
        "the value reaches the program file of `sh` through a process substitution or a file the sc",
    ),
    (
        "curl -o s.sh -- @V@; sh s.sh",
        "the value reaches the program file of `sh` through a process substitution or a file the sc",
    ),
    (
        "kubectl exec -i pod -- sh <<< @V@",
        "the value reaches sh's standard input through a here-string",
    ),
    (
        "kubectl exec pod -- sh -c @V@",
        "the value is the script of `sh -c`",
    ),
    (
        "kubectl exec pod -- psql -c @V@",
        "the value is the argument of `psql -c`",
    ),
    (
        "kubectl patch deploy app -p \"{\\\"spec\\\":{\\\"replicas\\\":@V@}}\"",
        "the value is in `kubectl -p`, whose argument is code, a script or settings parsed from tex",
    ),
    (
        "kubectl run tmp --image=busybox --restart=Never -- sh -c @V@",
        "the value is the script of `sh -c`",
    ),
    (
        "kubectl run tmp --image=busybox --overrides=@V@",
        "the value is in `kubectl --overrides`, whose argument is code, a script or settings parsed",
    ),
    (
        "kubectl apply -f - <<EOF\napiVersion: v1\nkind: ConfigMap\ndata:\n  k: @V@\nEOF",
        "the value reaches kubectl's standard input through a heredoc",
    ),
    (
        "printf '%s' @V@ | kubectl create secret generic s --from-file=p=/dev/stdin",
        "the value reaches kubectl's standard input through a pipe",
    ),
    (
        "kubectl debug node/n -it --image=busybox -- chroot /host sh -c @V@",
        "the value is the script of `sh -c`",
    ),
    (
        "aws ssm send-command --document-name AWS-RunShellScript --parameters commands=@V@ --targets Key=tag:x,Values=y",
        "the value is in `aws --parameters`, whose argument is code, a script or settings parsed fr",
    ),
    (
        "aws ssm send-command --document-name AWS-RunShellScript --parameters \"commands=[\\\"@V@\\\"]\"",
        "the value is in `aws --parameters`, whose argument is code, a script or settings parsed fr",
    ),
    (
        "aws ec2 run-instances --image-id ami-1 --user-data @V@",
        "the value is in `aws --user-data`, whose argument is code, a script or settings parsed fro",
    ),
    (
        "aws ecs run-task --cluster c --task-definition t --overrides @V@",
        "the value is in `aws --overrides`, whose argument is code, a script or settings parsed fro",
    ),
    (
        "aws ecs execute-command --cluster c --task t --command @V@ --interactive",
        "the value is in `aws --command`, whose argument is code, a script or settings parsed from ",
    ),
    (
        "aws lambda invoke --function-name f --payload @V@ out.json",
        "the value is in `aws --payload`, whose argument is code, a script or settings parsed from ",
    ),
    (
        "printf '%s' @V@ | aws s3 cp - s3://b/k",
        "the value reaches aws's standard input through a pipe",
    ),
    (
        "gcloud compute ssh vm --command @V@",
        "the value is in `gcloud --command`, whose argument is code, a script or settings parsed fr",
    ),
    (
        "gcloud compute ssh vm --command=\"@V@\"",
        "the value is in `gcloud --command`, whose argument is code, a script or settings parsed fr",
    ),
    (
        "gcloud compute ssh @V@",
        "a template where `gcloud ... ssh` reads options",
    ),
    (
        "gcloud compute ssh vm -- @V@",
        "the value is after `--` of `gcloud ... ssh`: ssh options or the remote command line",
    ),
    (
        "gcloud compute instances add-metadata vm --metadata startup-script=@V@",
        "the value is in `gcloud --metadata`, whose argument is code, a script or settings parsed f",
    ),
    (
        "az vm run-command invoke -g rg -n vm --command-id RunShellScript --scripts @V@",
        "the value is in `az --scripts`, whose argument is code, a script or settings parsed from t",
    ),
    (
        "az ssh vm -n vm -- @V@",
        "the value is after `--` of `az ... ssh`: ssh options or the remote command line",
    ),
    (
        "az aks command invoke -g rg -n aks --command @V@",
        "the value is in `az --command`, whose argument is code, a script or settings parsed from t",
    ),
    (
        "psql -v v=@V@ -f q.sql",
        "the value is the argument of `psql -v`",
    ),
    (
        "psql -c \"select '@V@'\"",
        "the value is the argument of `psql -c`",
    ),
    (
        "psql <<EOF\nselect '@V@';\nEOF",
        "the value reaches psql's standard input through a heredoc",
    ),
    (
        "mysql -e \"select '@V@'\"",
        "the value is the argument of `mysql -e`",
    ),
    ("mysql @V@", "a template where `mysql` reads options"),
    (
        "echo @V@ | mysql app",
        "the value reaches mysql's standard input through a pipe",
    ),
    (
        "redis-cli GET @V@",
        "the value is an operand of `redis-cli`",
    ),
    (
        "redis-cli EVAL \"return 1\" 0 @V@",
        "the value is an operand of `redis-cli`",
    ),
    (
        "systemd-run --unit x -p ExecStartPre=@V@ true",
        "a template among the options of `systemd-run`, where a value starting with `-` would chang",
    ),
    (
        "systemd-run --unit x sh -c @V@",
        "the value is the script of `sh -c`",
    ),
    (
        "docker exec box sh -c @V@",
        "the value is the script of `sh -c`",
    ),
    (
        "docker exec -i box sh <<< @V@",
        "the value reaches sh's standard input through a here-string",
    ),
    (
        "printf '%s' @V@ | docker run -i --rm alpine",
        "the value reaches the standard input of the command `docker` runs through a pipe",
    ),
    (
        "docker build -t img - <<< @V@",
        "the value reaches docker's standard input through a here-string",
    ),
    (
        "docker run --rm --entrypoint sh alpine -c @V@",
        "a template in a `docker` command with --entrypoint",
    ),
    (
        "docker compose exec app sh -c @V@",
        "the value is the script of `sh -c`",
    ),
    ("git checkout @V@", "a template where `git` reads options"),
    (
        "git -c core.sshCommand=@V@ fetch",
        "the value is the argument of `git -c`",
    ),
    ("git clone @V@", "a template where `git` reads options"),
    (
        "git config user.name @V@",
        "a template where `git` reads options",
    ),
    (
        "git config core.pager @V@",
        "a template in `git ... config` of the setting `core.pager`",
    ),
    (
        "git config alias.x @V@",
        "a template in `git ... config` of the setting `alias.x`",
    ),
    (
        "echo @V@ > .git/hooks/pre-commit",
        "the value is written into .git/hooks/pre-commit, a file the system runs or loads as code (",
    ),
    (
        "rsync -a @V@ backup/",
        "a template where `rsync` reads options",
    ),
    (
        "rsync -e @V@ -a src host:dst",
        "the value is the argument of `rsync -e`",
    ),
    (
        "rsync --rsync-path=@V@ -a src host:dst",
        "the value is the argument of `rsync --rsync-path`",
    ),
    (
        "tar --to-command=@V@ -xf a.tar",
        "the value is the argument of `tar --to-command`",
    ),
    (
        "tar -I @V@ -cf a.tar dir",
        "the value is the argument of `tar -I`",
    ),
    (
        "printf '%s' @V@ | tar -x",
        "the value reaches tar's standard input through a pipe",
    ),
    (
        "jq -r \".items[] | select(.name == \\\"@V@\\\")\" data.json",
        "the value is an operand of `jq`",
    ),
    (
        "yq -i \".a = \\\"@V@\\\"\" f.yaml",
        "the value is an operand of `yq`",
    ),
    (
        "sed -i \"s/old/@V@/\" f.conf",
        "the value is an operand of `sed`",
    ),
    ("awk \"/@V@/\" f.txt", "the value is an operand of `awk`"),
    (
        "printf '%s' @V@ | base64 -d | sh",
        "the value reaches sh's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | base64 -d > run.sh; bash run.sh",
        "the value reaches the program file of `bash` through a process substitution or a file the ",
    ),
    (
        "echo @V@ >> ~/.bashrc",
        "the value is written into ~/.bashrc, a file the system runs or loads as code (shell startu",
    ),
    (
        "echo @V@ >> \"$HOME/.bashrc\"",
        "the value is written into $HOME/.bashrc, a file the system runs or loads as code (shell st",
    ),
    (
        "echo @V@ | sudo tee -a /etc/sudoers.d/x",
        "the value is written into /etc/sudoers.d/x, a file the system runs or loads as code (shell",
    ),
    (
        "echo @V@ | sudo tee /etc/cron.d/job",
        "the value is written into /etc/cron.d/job, a file the system runs or loads as code (shell ",
    ),
    (
        "echo @V@ > /etc/systemd/system/x.service",
        "the value is written into /etc/systemd/system/x.service, a file the system runs or loads a",
    ),
    (
        "echo @V@ >> ~/.ssh/authorized_keys",
        "the value is written into ~/.ssh/authorized_keys, a file the system runs or loads as code ",
    ),
    (
        "printf '%s\n' @V@ > /tmp/report.txt; mail -s report ops < /tmp/report.txt",
        "the value reaches mail's standard input through a file the script writes the value into",
    ),
    (
        "printf '%s\n' @V@ > /tmp/msg.txt; ./notify.sh /tmp/msg.txt",
        "the value reaches a file that notify.sh reads",
    ),
    (
        "printf '%s\n' @V@ > ./vars.env; . ./vars.env",
        "the value reaches the program file of `.` through a process substitution or a file the scr",
    ),
    (
        "printf 'X=%s\n' @V@ > /tmp/env; set -a; source /tmp/env",
        "the value reaches the program file of `source` through a process substitution or a file th",
    ),
    (
        "curl -K @V@ http://x",
        "the value is in `curl -K`, whose argument is code, a script or settings parsed from text t",
    ),
    (
        "curl -o out.bin -- @V@; chmod +x out.bin",
        "the value is written into a file or chooses the name of one",
    ),
    (
        "curl -fsSL -- @V@ | bash",
        "the value reaches bash's standard input through a pipe",
    ),
    (
        "curl -fsSL -- @V@ | sh -s -- --yes",
        "the value reaches sh's standard input through a pipe",
    ),
    (
        "wget -qO- @V@ | sh",
        "a template where `wget` reads options",
    ),
    ("wget @V@", "a template where `wget` reads options"),
    (
        "ssh host \"systemctl restart @V@\"",
        "the value is part of the remote command of `ssh`",
    ),
    (
        "printf '%s' @V@ | ssh host sh",
        "the value reaches the standard input of `ssh -c '...'`",
    ),
    (
        "ssh -o ProxyJump=@V@ host",
        "a template in ssh's -o option: ssh options such as ProxyCommand, LocalCommand and KnownHos",
    ),
    ("scp @V@ host:/tmp/", "a template where `scp` reads options"),
    (
        "ansible @V@ -m ping",
        "a template where `ansible` reads options",
    ),
    (
        "ansible all -i hosts -m copy -a \"content=@V@ dest=/tmp/x\"",
        "the value is the argument of `ansible -a`",
    ),
    (
        "ansible all -m ping -e x=@V@",
        "the value is the argument of `ansible -e`",
    ),
    (
        "ansible-playbook site.yml -e \"version=@V@\"",
        "the value is the argument of `ansible-playbook -e`",
    ),
    (
        "ansible-playbook @V@",
        "a template where `ansible-playbook` reads options",
    ),
    (
        "ansible all -m ping --ssh-common-args=@V@",
        "the value is the argument of `ansible --ssh-common-args`",
    ),
    (
        "salt '*' pkg.install @V@",
        "the value is an argument of `salt ... pkg.install`",
    ),
    (
        "salt '*' cmd.shell @V@",
        "the value is an argument of `salt ... cmd.shell`",
    ),
    (
        "salt-call state.apply @V@",
        "the value is an argument of `salt-call ... state.apply`",
    ),
    (
        "helm upgrade app chart --set image.tag=@V@",
        "the value is in `helm --set`, whose argument is code, a script or settings parsed from tex",
    ),
    (
        "helm upgrade app chart --set-string image.tag=@V@",
        "the value is in `helm --set-string`, whose argument is code, a script or settings parsed f",
    ),
    (
        "terraform -chdir=@V@ plan",
        "the value is in `terraform -chdir`, whose argument is code, a script or settings parsed fr",
    ),
    (
        "printf '%s' @V@ | vault kv put secret/x v=-",
        "the value reaches vault's standard input through a pipe",
    ),
    (
        "gh alias set x @V@",
        "a template in `gh alias set`: an alias starting with `!` is a shell command line",
    ),
    (
        "find @V@ -exec rm {} \\;",
        "a template where `find` reads its start points",
    ),
    (
        "find /tmp -name x -exec sh -c @V@ \\;",
        "the value is the script of `sh -c`",
    ),
    (
        "find @V@ @V@ -print",
        "a template where `find` reads its start points",
    ),
    (
        "xargs -I{} sh -c @V@ <<< a",
        "the value is the script of `sh -c`",
    ),
    (
        "printf '%s\n' @V@ | xargs -I{} sh -c 'echo {}'",
        "the value is the script of `sh -c`",
    ),
    (
        "printf '%s\n' @V@ | parallel echo",
        "the value reaches parallel's standard input through a pipe",
    ),
    (
        "printf '%s\n' @V@ | while read -r h; do ssh \"$h\" uptime; done",
        "a template where ssh reads options",
    ),
    (
        "run() { \"$@\"; }; run printf '%s' @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "run() { \"$@\"; }; run bash -c @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "retry() { local n=$1; shift; for i in $(seq \"$n\"); do \"$@\" && return; done; }; retry 3 curl -sf @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "f() { local cmd=$1; eval \"$cmd\"; }; f @V@",
        "the value is an operand of `eval`",
    ),
    (
        "f() { sh -c \"$1\"; }; f @V@",
        "the value is the script of `sh -c`",
    ),
    (
        "f() { set -- \"${@:2}\"; eval \"$1\"; }; f a @V@",
        "the value is an operand of `eval`",
    ),
    (
        "f() { while [ $# -gt 0 ]; do eval \"$1\"; shift; done; }; f @V@",
        "the value is an operand of `eval`",
    ),
    (
        "f() { for a in \"$@\"; do bash -c \"$a\"; done; }; f @V@",
        "the value is the script of `bash -c`",
    ),
    (
        "f() { printf '%s' \"$1\" | bash; }; f @V@",
        "the value reaches bash's standard input through a pipe",
    ),
    (
        "f() { sh; }; f <<< @V@",
        "the value reaches sh's standard input through a pipe",
    ),
    (
        "f() { tcsh; }; printf '%s' @V@ | f",
        "the value reaches tcsh's standard input through a pipe",
    ),
    ("timeout 10 sh -c @V@", "the value is the script of `sh -c`"),
    ("nohup sh -c @V@ &", "the value is the script of `sh -c`"),
    (
        "sudo -u postgres psql -c @V@",
        "the value is the argument of `psql -c`",
    ),
    ("sudo sh -c @V@", "the value is the script of `sh -c`"),
    (
        "sudo -s @V@",
        "`sudo` with a shell option runs its command line with a shell, so the value would be code",
    ),
    (
        "chroot /mnt sh -c @V@",
        "the value is the script of `sh -c`",
    ),
    (
        "nsenter -t 1 -m -- sh -c @V@",
        "the value is the script of `sh -c`",
    ),
    ("stdbuf -oL sh -c @V@", "the value is the script of `sh -c`"),
    ("ionice -c3 sh -c @V@", "the value is the script of `sh -c`"),
    (
        "taskset -c 0 sh -c @V@",
        "the value is the script of `sh -c`",
    ),
    ("setsid sh -c @V@", "the value is the script of `sh -c`"),
    (
        "unshare -r sh -c @V@",
        "a template as the command name runs the value as a program",
    ),
    ("firejail sh -c @V@", "the value is the script of `sh -c`"),
    (
        "echo @V@ | crontab -",
        "the value reaches crontab's standard input (read as the program file -) through a pipe",
    ),
    (
        "echo @V@ | at now",
        "the value reaches at's standard input through a pipe",
    ),
    (
        "echo @V@ | batch",
        "the value reaches batch's standard input through a pipe",
    ),
    ("at -f @V@ now", "the value names the program file of `at`"),
    (
        "make deploy VERSION=@V@",
        "the value is an operand of `make`",
    ),
    (
        "make -f - <<< @V@",
        "the value reaches make's standard input (read as the program file -) through a here-string",
    ),
    ("vim -c @V@ f", "the value is the argument of `vim -c`"),
    (
        "emacs --batch --eval @V@",
        "the value is the argument of `emacs --eval`",
    ),
    (
        "emacs -batch -l @V@",
        "the value names the program file of `emacs`",
    ),
    ("less @V@", "the value is an operand of `less`"),
    (
        "printf '%s' @V@ | openssl dgst -sha256",
        "the value reaches openssl's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | gpg --batch --import",
        "the value reaches gpg's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | nc host 9999",
        "the value reaches nc's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | socat - TCP:host:9999",
        "the value reaches socat's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | sqlite3 db.sqlite",
        "the value reaches sqlite3's standard input through a pipe",
    ),
    (
        "sqlite3 db.sqlite \".param set :x @V@\"",
        "the value is an operand of `sqlite3`",
    ),
    (
        "sqlite3 db.sqlite \"select * from t where k='@V@'\"",
        "the value is an operand of `sqlite3`",
    ),
    (
        "printf '%s' @V@ | /usr/bin/python3.12",
        "the value reaches python3's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | perl5.36",
        "the value reaches perl's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | ruby3.1",
        "the value reaches ruby's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | node18",
        "the value reaches node's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | /usr/local/bin/lua5.4",
        "the value reaches lua's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | php8.2",
        "the value reaches php's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | tclsh8.6",
        "the value reaches tclsh's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | pypy3",
        "the value reaches pypy3's standard input through a pipe",
    ),
    (
        "python3.11 -c @V@",
        "the value is the argument of `python3 -c`",
    ),
    (
        "/opt/py/bin/python3.12 -c @V@",
        "the value is the argument of `python3 -c`",
    ),
    ("perl5.36 -e @V@", "the value is the argument of `perl -e`"),
    ("node20 -e @V@", "the value is the argument of `node -e`"),
    ("bash5 -c @V@", "the value is the script of `bash -c`"),
    ("/bin/sh -c @V@", "the value is the script of `sh -c`"),
    (
        "printf '%s' @V@ | /bin/busybox sh",
        "the value reaches sh's standard input through a pipe",
    ),
    ("busybox sh -c @V@", "the value is the script of `sh -c`"),
    (
        "printf '%s' @V@ | env -i bash",
        "the value reaches bash's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | command bash",
        "the value reaches bash's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | exec bash",
        "the value reaches bash's standard input through a pipe",
    ),
    (
        "exec 3<<< @V@; tcsh <&3",
        "the value reaches tcsh's standard input through a pipe",
    ),
    (
        "tcsh < <(printf '%s' @V@)",
        "the value reaches tcsh's standard input through a process substitution",
    ),
    (
        "tcsh <(printf '%s' @V@)",
        "the value reaches a file that tcsh reads",
    ),
    (
        "zsh /dev/stdin <<< @V@",
        "the value reaches zsh's standard input (read as the program file /dev/stdin) through a her",
    ),
    (
        "printf '%s' @V@ > /dev/shm/x; tcsh /dev/shm/x",
        "the value reaches a file that tcsh reads",
    ),
    (
        "printf '%s' @V@ > x.sh; tcsh x.sh",
        "the value reaches a file that tcsh reads",
    ),
    (
        "printf '%s' @V@ > x.sh; sudo bash x.sh",
        "the value reaches the program file of `bash` through a process substitution or a file the ",
    ),
    (
        "printf '%s' @V@ > x.bin; chmod 755 x.bin",
        "the value is written into a file or chooses the name of one",
    ),
    (
        "printf '%s' @V@ > x.sh; cp x.sh y.sh; ./y.sh",
        "the command runs a file the script writes the value into",
    ),
    (
        "printf '%s' @V@ > x.txt; mv x.txt y.sh; bash y.sh",
        "the value reaches the program file of `bash` through a process substitution or a file the ",
    ),
    (
        "printf '%s' @V@ | dd of=/etc/cron.d/x",
        "the value is written into /etc/cron.d/x, a file the system runs or loads as code (shell st",
    ),
    (
        "printf '%s' @V@ | sponge ~/.profile",
        "the value is written into ~/.profile, a file the system runs or loads as code (shell start",
    ),
    (
        "cp @V@ ~/.ssh/authorized_keys",
        "the value is written into ~/.ssh/authorized_keys, a file the system runs or loads as code ",
    ),
    (
        "ln -sf @V@ /etc/profile.d/x.sh",
        "the value is written into /etc/profile.d/x.sh, a file the system runs or loads as code (sh",
    ),
    (
        "install -m 755 @V@ /usr/local/bin/tool",
        "the value is written into /usr/local/bin/tool, a file the system runs or loads as code (sh",
    ),
    (
        "curl -o /etc/profile.d/x.sh -- @V@",
        "the value is written into /etc/profile.d/x.sh, a file the system runs or loads as code (sh",
    ),
    (
        "wget -O ~/.bashrc @V@",
        "a template where `wget` reads options",
    ),
    (
        "export TAG=@V@; envsubst < tmpl.yaml | kubectl apply -f -",
        "the value reaches kubectl's standard input through a pipe",
    ),
    (
        "printf 'tag: %s\n' @V@ > values.yaml; helm upgrade app chart -f values.yaml",
        "the value reaches a file that helm reads",
    ),
    (
        "printf '%s' @V@ > m.yaml; kubectl apply -f m.yaml",
        "the value reaches a file that kubectl reads",
    ),
    (
        "cat <<EOF > /tmp/job.sh\n@V@\nEOF\nbash /tmp/job.sh",
        "the value reaches the program file of `bash` through a process substitution or a file the ",
    ),
    (
        "printf '%s' @V@ | head -c 100 | bash",
        "the value reaches bash's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | cat | cat | sh",
        "the value reaches sh's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | tee /dev/stderr | bash",
        "the value reaches bash's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | tee >(tcsh) >/dev/null",
        "the value reaches tcsh's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ > >(tcsh)",
        "the value reaches tcsh's standard input through a pipe",
    ),
    (
        "coproc tcsh; printf '%s' @V@ >&\"${COPROC[1]}\"",
        "the value is written into a file or chooses the name of one",
    ),
    (
        "{ printf '%s' @V@; } | tcsh",
        "the value reaches tcsh's standard input through a pipe",
    ),
    (
        "( printf '%s' @V@ ) | zsh",
        "the value reaches zsh's standard input through a pipe",
    ),
    (
        "if true; then printf '%s' @V@; fi | ksh",
        "the value reaches ksh's standard input through a pipe",
    ),
    (
        "watch -n 5 kubectl get pod @V@",
        "the value is an operand of `watch`",
    ),
    (
        "script -q -c @V@ /dev/null",
        "the value is the argument of `script -c`",
    ),
    ("su -c @V@ postgres", "the value is the argument of `su -c`"),
    (
        "su postgres -c 'psql' <<< @V@",
        "the value reaches the standard input of `su -c '...'`",
    ),
    (
        "flock /tmp/l -c @V@",
        "the value is part of the command line that `flock -c` runs with a shell",
    ),
    ("env -S @V@", "a template in `env -S`"),
    (
        "pdsh -w host1,host2 @V@",
        "a template where `pdsh` reads options",
    ),
    (
        "pssh -h hosts.txt -i @V@",
        "a template where `pssh` reads options",
    ),
    (
        "clush -w @all @V@",
        "a template where `clush` reads options",
    ),
    (
        "unzip -o @V@ -d /tmp/x",
        "the value reaches a file that unzip reads",
    ),
    (
        "gzip -dc @V@ | tar -x",
        "the value reaches tar's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | base64 -d | tar -xz -C /tmp",
        "the value reaches tar's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | ed -s f.txt",
        "the value reaches ed's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | vim -es f.txt",
        "the value reaches vim's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | sftp host",
        "the value reaches sftp's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | telnet host 23",
        "the value reaches telnet's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | expect",
        "the value reaches expect's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | gdb -batch",
        "the value reaches gdb's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | R --no-save",
        "the value reaches R's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | Rscript -",
        "the value reaches Rscript's standard input (read as the program file -) through a pipe",
    ),
    (
        "printf '%s' @V@ | osascript",
        "the value reaches osascript's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | pwsh -",
        "the value reaches pwsh's standard input (read as the program file -) through a pipe",
    ),
    (
        "printf '%s' @V@ | dotnet fsi",
        "the value reaches dotnet's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | java -jar tool.jar",
        "the value reaches java's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | jshell",
        "the value reaches jshell's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | scala",
        "the value reaches scala's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | groovy",
        "the value reaches groovy's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | ocaml",
        "the value reaches ocaml's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | erl",
        "the value reaches erl's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | iex",
        "the value reaches iex's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | swipl",
        "the value reaches swipl's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | gnuplot",
        "the value reaches gnuplot's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | octave",
        "the value reaches octave's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | maxima",
        "the value reaches maxima's standard input through a pipe",
    ),
    (
        "printf '%s' @V@ | awk '{ system($0) }'",
        "the value reaches `awk` as data",
    ),
    (
        "printf '%s' @V@ | sed 'e'",
        "the value reaches `sed` as data",
    ),
    (
        "printf '%s' @V@ | perl -ne 'system $_'",
        "the value reaches `perl` as data",
    ),
    (
        "printf '%s' @V@ | xargs -0 sh -c",
        "the value is the script of `sh -c`",
    ),
    (
        "printf '%s' @V@ | xargs -0 -I{} bash -c {}",
        "the value is the script of `bash -c`",
    ),
    (
        "printf '%s' @V@ | xargs -0 eval",
        "the value is an operand of `eval`",
    ),
    (
        "printf '%s' @V@ | bash -c 'read -r x; eval \"$x\"'",
        "the value reaches the standard input of `bash -c '...'`",
    ),
    (
        "printf '%s' @V@ | sh -c 'cat > /tmp/x; . /tmp/x'",
        "the value reaches the standard input of `sh -c '...'`",
    ),
    (
        "printf '%s' @V@ | bash -c 'source <(cat)'",
        "the value reaches the standard input of `bash -c '...'`",
    ),
    (
        "printf '%s\\n' @V@ >> ~/.bash_aliases",
        "the value is written into ~/.bash_aliases, a file the system runs or loads as code (shell ",
    ),
    (
        "cd /etc/cron.d && printf '%s\\n' @V@ > job",
        "the value is written into /etc/cron.d/job, a file the system runs or loads as code (shell ",
    ),
    (
        "cd /etc; printf '%s\\n' @V@ > cron.d/job",
        "the value is written into /etc/cron.d/job, a file the system runs or loads as code (shell ",
    ),
    (
        "cd @V@; printf '%s\\n' @V@ > job",
        "the value is written into a file in a script that changes into a computed directory (`cd \"",
    ),
    (
        "cd \"$(mktemp -d)\"; printf '%s' @V@ > out.txt",
        "the value is written into a file in a script that changes into a computed directory (`cd \"",
    ),
    (
        "cd \"$HOME\"; printf '%s' @V@ >> .bashrc",
        "the value is written into $HOME/.bashrc, a file the system runs or loads as code (shell st",
    ),
    (
        "tar -xf @V@ -C /etc/cron.d",
        "the value is written into /etc/cron.d, a file the system runs or loads as code (shell star",
    ),
    (
        "printf '%s' @V@ > /usr/lib/python3/dist-packages/x.pth",
        "the value is written into /usr/lib/python3/dist-packages/x.pth, a file the system runs or ",
    ),
    (
        "git config core.fsmonitor \"x@V@\"",
        "a template in `git ... config` of the setting `core.fsmonitor`",
    ),
    (
        "git config --global core.hooksPath \"/tmp/@V@\"",
        "a template in `git ... config` of the setting `core.hooksPath`",
    ),
    (
        "aws configure set credential_process \"x@V@\"",
        "a template in `aws ... set` of the setting `credential_process`",
    ),
    (
        "helm plugin install @V@",
        "a template in `helm`'s plugin or extension install",
    ),
    (
        "gh extension install @V@",
        "a template in `gh`'s plugin or extension install",
    ),
    (
        "kubectl krew install @V@",
        "a template in `kubectl`'s plugin or extension install",
    ),
    (
        "kubectl config set-credentials u --exec-command=@V@",
        "the value is in `kubectl --exec-command`, whose argument is code, a script or settings par",
    ),
    (
        "sort @V@ file",
        "a template where `sort` reads options: a value like --compress-program",
    ),
    (
        "sort -u \"@V@\"",
        "a template where `sort` reads options: a value like ",
    ),
    (
        "sort -o out.txt @V@",
        "a template where `sort` reads options: a value like ",
    ),
    (
        "sort --compress-program=@V@ f",
        "the value is in the argument of `sort --compress-program`, which names code",
    ),
    (
        "sort --compress-program @V@ f",
        "the value is in the argument of `sort --compress-program`, which names code",
    ),
    (
        "man @V@ ls",
        "a template where `man` reads options: a value like --pager",
    ),
    (
        "man -P @V@ ls",
        "the value is in the argument of `man -P`, which names code",
    ),
    (
        "man -P@V@ ls",
        "the value is in the argument of `man -P`, which names code",
    ),
    (
        "man --pager=@V@ ls",
        "the value is in the argument of `man --pager`, which names code",
    ),
    (
        "apt-get install -y @V@",
        "a template where `apt-get` reads options: a value like -oAPT::Update::Pre-Invoke::=",
    ),
    (
        "apt install \"@V@\"",
        "a template where `apt` reads options: a value like ",
    ),
    (
        "aptitude install @V@",
        "a template where `aptitude` reads options: a value like ",
    ),
    (
        "apt-get -o @V@ update",
        "the value is in the argument of `apt-get -o`, which names code",
    ),
    (
        "apt-get -o@V@ update",
        "the value is in the argument of `apt-get -o`, which names code",
    ),
    (
        "apt-get -o \"DPkg::Pre-Invoke::=@V@\" update",
        "the value is in the argument of `apt-get -o`, which names code",
    ),
    (
        "sudo apt-get install @V@",
        "a template where `apt-get` reads options: a value like ",
    ),
    (
        "dpkg @V@ -l",
        "a template where `dpkg` reads options: a value like ",
    ),
    (
        "dpkg --pre-invoke=@V@ -i x.deb",
        "the value is in the argument of `dpkg --pre-invoke`, which names code",
    ),
    (
        "rpm -q @V@",
        "a template where `rpm` reads options: a value like ",
    ),
    (
        "rpm -E @V@",
        "the value is in the argument of `rpm -E`, which names code",
    ),
    (
        "rpm --eval=@V@",
        "the value is in the argument of `rpm --eval`, which names code",
    ),
    (
        "dnf install @V@",
        "a template where `dnf` reads options: a value like ",
    ),
    (
        "tcpdump -w f @V@",
        "a template where `tcpdump` reads options: a value like ",
    ),
    (
        "tcpdump -z @V@ -w f",
        "the value is in the argument of `tcpdump -z`, which names code",
    ),
    (
        "exiftool -if @V@ f",
        "the value is in the argument of `exiftool -if`, which names code",
    ),
    (
        "exiftool @V@ f",
        "a template where `exiftool` reads options: a value like ",
    ),
    (
        "nmap @V@",
        "a template where `nmap` reads options: a value like --script",
    ),
    (
        "nmap --script @V@ h",
        "the value is in the argument of `nmap --script`, which names code",
    ),
    (
        "openssl @V@",
        "a template where `openssl` reads options: a value like ",
    ),
    (
        "openssl x509 @V@ -in f",
        "a template where `openssl` reads options: a value like ",
    ),
    (
        "openssl req -engine @V@ -new",
        "the value is in the argument of `openssl -engine`, which names code",
    ),
    (
        "gpg --photo-viewer @V@ --list-keys",
        "the value is in the argument of `gpg --photo-viewer`, which names code",
    ),
    (
        "gpg --decrypt @V@",
        "a template where `gpg` reads options: a value like ",
    ),
    (
        "mailx @V@",
        "a template where `mailx` reads options: a value like ",
    ),
    (
        "mail -s subj @V@",
        "a template where `mail` reads options: a value like ",
    ),
    (
        "mail -S sendmail=@V@ root",
        "the value is in the argument of `mail -S`, which names code",
    ),
    (
        "sendmail @V@ < msg",
        "a template where `sendmail` reads options: a value like ",
    ),
    (
        "curl @V@",
        "a template where `curl` reads options: a value like ",
    ),
    (
        "curl -s @V@ https://example.com/",
        "a template where `curl` reads options: a value like ",
    ),
    (
        "curl --engine @V@ https://example.com/",
        "the value is in the argument of `curl --engine`, which names code",
    ),
    (
        "helm upgrade --install @V@ chart",
        "a template where `helm` reads options: a value like ",
    ),
    (
        "helm install x --post-renderer @V@",
        "the value is in the argument of `helm --post-renderer`, which names code",
    ),
    (
        "helm install x --post-renderer=@V@",
        "the value is in the argument of `helm --post-renderer`, which names code",
    ),
    ("find @V@", "a template where `find` reads its start points"),
    (
        "helm rollback app @V@",
        "a template where `helm` reads options",
    ),
    (
        "timeout 10 curl -sf @V@",
        "a template where `curl` reads options",
    ),
    (
        "find @V@ -name x",
        "a template where `find` reads its start points",
    ),
    (
        "find /a @V@ -type f",
        "a template where `find` reads its start points",
    ),
    (
        "runuser -u nobody -- @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "runuser -u nobody @V@",
        "a template as the command name runs the value as a program",
    ),
    ("capsh -- -c @V@", "the value is the script of `bash -c`"),
    (
        "faketime now @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "xvfb-run @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "xvfb-run -a -- @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "dbus-run-session -- @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "perf record @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "perf stat -e cycles @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "perf trace -- @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "ip netns exec ns @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "ip vrf exec v @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "lxc exec c -- @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "incus exec c -- sh -c @V@",
        "the value is the script of `sh -c`",
    ),
    (
        "systemd-nspawn -D /r @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "bwrap --ro-bind / / @V@",
        "a template in the arguments of `bwrap`",
    ),
    (
        "bwrap --ro-bind / / sh -c 'echo \"$1\"' _ @V@",
        "a template in the arguments of `bwrap`",
    ),
    (
        "proot -r /r @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "gosu nobody @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "su-exec nobody @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "fakeroot @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "fakeroot -- sh -c @V@",
        "the value is the script of `sh -c`",
    ),
    (
        "lxc-attach -n c -- @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "ssh-agent @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "sshpass -p pw @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "eatmydata @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "chpst -u nobody @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "setpriv --reuid=1 @V@",
        "a template as the command name runs the value as a program",
    ),
    (
        "faketime -f +1d sh -c @V@",
        "the value is the script of `sh -c`",
    ),
    ("yq eval .a\"@V@\" f.yaml", "an operand of `yq`"),
    ("yq eval @V@ f.yaml", "a template where `yq` reads options"),
    ("yq e @V@ f.yaml", "a template where `yq` reads options"),
    (
        "yq eval-all @V@ a.yaml b.yaml",
        "a template where `yq` reads options",
    ),
    (
        "dasel -f f.json @V@",
        "a template in the arguments of `dasel`",
    ),
    (
        "mlr --icsv --ojson put @V@ f.csv",
        "a template in the arguments of `mlr`",
    ),
    (
        "mlr --prepipe @V@ cat f.csv",
        "a template in the arguments of `mlr`",
    ),
    (
        "mlr -n put 'end{print 1}' @V@",
        "a template in the arguments of `mlr`",
    ),
    ("gnuplot -e @V@", "the argument of `gnuplot -e`"),
    (
        "printf '%s' @V@ | gnuplot",
        "gnuplot reads its standard input",
    ),
    ("octave --eval @V@", "the argument of `octave --eval`"),
    ("guile -c @V@", "the argument of `guile -c`"),
    ("julia -e @V@", "the argument of `julia -e`"),
    ("racket -e @V@", "the argument of `racket -e`"),
    ("sbcl --eval @V@", "the argument of `sbcl --eval`"),
    ("ghc -e @V@", "the argument of `ghc -e`"),
    ("elixir -e @V@", "the argument of `elixir -e`"),
    ("erl -noshell -eval @V@", "the argument of `erl"),
    ("ocaml @V@", "a template where `ocaml` reads options"),
    ("swipl -g @V@", "the argument of `swipl -g`"),
    ("nft @V@", "an operand of `nft`"),
    (
        "nft add rule inet t c ip saddr @V@ drop",
        "an operand of `nft`",
    ),
    ("duckdb -c @V@", "the argument of `duckdb -c`"),
    (
        "duckdb db.duckdb \"@V@\"",
        "a template where `duckdb` reads options",
    ),
    (
        "clickhouse-client -q @V@",
        "the argument of `clickhouse-client -q`",
    ),
    (
        "printf '%s' @V@ | duckdb",
        "duckdb reads its standard input",
    ),
    (
        "mv <(echo @V@) s.sh",
        "a file whose name says it holds code",
    ),
    ("git diff --output=@V@", "the argument of `git --output`"),
    ("git log -p --output @V@", "the argument of `git --output`"),
    (
        "x=@V@; sort \"$x\" f",
        "a template where `sort` reads options",
    ),
    (
        "env LC_ALL=C sort @V@",
        "a template where `sort` reads options",
    ),
    (
        "nice apt-get install \"$(echo @V@)\"",
        "a template where `apt-get` reads options",
    ),
    (
        "echo @V@ > Makefile; make",
        "a file whose name says it holds code",
    ),
    (
        "echo @V@ > package.json; npm install",
        "a file whose name says it holds code",
    ),
    ("echo @V@ > .envrc", "a file whose name says it holds code"),
    (
        "printf '%s' @V@ > Dockerfile; docker build .",
        "a file whose name says it holds code",
    ),
    (
        "echo @V@ >> Justfile",
        "a file whose name says it holds code",
    ),
    (
        "echo @V@ > Taskfile.yml",
        "a file whose name says it holds code",
    ),
    (
        "echo @V@ > Rakefile",
        "a file whose name says it holds code",
    ),
    (
        "echo @V@ > setup.py",
        "a file whose name says it holds code",
    ),
    (
        "echo @V@ > tests/conftest.py",
        "a file whose name says it holds code",
    ),
    (
        "echo @V@ > build.rs",
        "a file whose name says it holds code",
    ),
    (
        "echo @V@ | tee deploy.sh",
        "a file whose name says it holds code",
    ),
    (
        "echo @V@ | base64 -d > s.sh",
        "a file whose name says it holds code",
    ),
    (
        "echo @V@ > /srv/app/hook.py",
        "a file whose name says it holds code",
    ),
    (
        "echo @V@ > x.service",
        "a file whose name says it holds code",
    ),
    (
        "cat > app.desktop <<EOF
@V@
EOF",
        "a file whose name says it holds code",
    ),
    (
        "echo @V@ > GNUmakefile",
        "a file whose name says it holds code",
    ),
    (
        "printf '%s' @V@ > run.ps1",
        "a file whose name says it holds code",
    ),
    (
        "cp <(echo @V@) job.pl",
        "a file whose name says it holds code",
    ),
    (
        "echo @V@ > .git/config",
        "a file the system runs or loads as code",
    ),
    (
        "echo @V@ > ./.npmrc",
        "a file the system runs or loads as code",
    ),
];

/// Contexts accepted by `validate` whose programs are not run here (cloud
/// and cluster clients, remote hosts): each passes the value as data. Some
/// are judgement calls, explained in docs/security.md: `curl -d`/`-H`, `gh
/// --title`, `terraform -var`, `helm --set-file`/`--set-literal`, `find V`,
/// `pg_dump -d`, `psql -- V` take the value as one argument of data, and a
/// value written into a file is accepted in a script that runs no file.
pub const VALIDATED: &[&str] = &[
    "mv <(echo @V@) s.bin",
    "echo @V@ | ansible all -m shell -a",
    "helm install x --set-file a=@V@",
    "terraform apply -var x=@V@",
    "gh api -f x=@V@",
    "gh issue create --title @V@",
    "curl -d @V@ http://x",
    "curl -H \"X: @V@\" http://x",
    "find ./@V@",
    "find . -newer @V@ -delete",
    "pg_dump -d @V@",
    "kubectl get pod @V@ -o json",
    "kubectl delete pod -- @V@",
    "kubectl -n @V@ get pods",
    "kubectl logs deploy/app --since=@V@",
    "kubectl scale deploy app --replicas=@V@",
    "kubectl set image deploy/app app=@V@",
    "kubectl annotate pod p note=@V@",
    "printf '%s' @V@ | kubectl exec -i pod -- cat > /tmp/o",
    "kubectl create configmap c --from-literal=k=@V@",
    "kubectl create secret generic s --from-literal=p=@V@",
    "kubectl cp @V@ pod:/tmp/x",
    "aws s3 cp s3://bucket/@V@ ./out",
    "aws s3 ls s3://@V@",
    "aws ec2 describe-instances --instance-ids @V@",
    "aws secretsmanager get-secret-value --secret-id @V@",
    "aws sts assume-role --role-arn @V@ --role-session-name drctl",
    "gcloud compute instances describe @V@ --zone us-east1-b",
    "gcloud sql instances patch db --tier=@V@",
    "gcloud config set project @V@",
    "az vm show -g rg -n @V@",
    "az keyvault secret show --vault-name v --name @V@",
    "psql -d @V@ -c 'select 1'",
    "psql -- @V@",
    "psql \"host=@V@ dbname=app\" -c 'select 1'",
    "mysql -h @V@ -e 'select 1'",
    "mysqldump -h @V@ app",
    "redis-cli -h @V@ ping",
    "redis-cli -x SET k <<< @V@",
    "systemctl restart @V@",
    "systemctl status -- @V@",
    "systemctl set-environment X=@V@",
    "systemd-run --unit x printf '%s' @V@",
    "journalctl -u @V@ --since today",
    "journalctl --grep @V@",
    "docker logs @V@",
    "docker exec box printf '%s' @V@",
    "printf '%s' @V@ | docker exec -i box tee /tmp/x",
    "docker run --rm alpine echo @V@",
    "docker run --rm -e X=@V@ alpine env",
    "printf '%s' @V@ | docker login -u u --password-stdin registry",
    "git commit -m @V@",
    "git checkout -- @V@",
    "git clone -- @V@ repo",
    "git log --grep=@V@",
    "git tag -a v1 -m @V@",
    "rsync -a -- @V@ backup/",
    "tar -czf out.tgz -- @V@",
    "tar -xzf @V@",
    "jq -r --arg n @V@ '.items[] | select(.name == $n)' data.json",
    "printf '%s' @V@ | jq -R .",
    "yq e '.a' @V@",
    "sed -n p @V@",
    "sed -n '/start/,/end/p' -- @V@",
    "awk -v n=@V@ '$1 == n' f.txt",
    "awk '{print}' @V@",
    "grep -F -- @V@ /var/log/syslog",
    "grep -r @V@ /etc",
    "printf '%s\n' @V@ | grep -c .",
    "printf '%s\n' @V@ | sort -u | head -n 3",
    "printf '%s' @V@ | sha256sum",
    "printf '%s' @V@ | tee -a notes.txt",
    "printf '%s' @V@ > payload.json; curl -d @payload.json http://x",
    "printf '%s' @V@ | curl --data-binary @- http://x",
    "curl -sf \"http://127.0.0.1:8080/health?svc=@V@\"",
    "wget -O - -- @V@",
    "ssh -- @V@ uptime",
    "printf '%s' @V@ | ssh host 'cat > /tmp/x'",
    "scp -- @V@ host:/tmp/",
    "ansible -- @V@ -m ping",
    "salt @V@ test.ping",
    "helm upgrade app chart --set-literal image.tag=@V@",
    "helm rollback app -- @V@",
    "terraform plan -var \"region=@V@\"",
    "terraform import aws_instance.x @V@",
    "vault kv get secret/@V@",
    "gh pr comment 1 --body @V@",
    "gh api repos/o/r/issues -f title=@V@",
    "gh secret set TOKEN <<< @V@",
    "find /var/log -name @V@ -mtime +7 -delete",
    "find /var/log -name \"*.log\" -exec grep -l @V@ {} +",
    "find /tmp -newer @V@ -print",
    "printf '%s\n' @V@ | xargs -n1 echo",
    "printf '%s\n' @V@ | xargs kubectl delete pod",
    "printf '%s\n' @V@ | while read -r p; do kubectl delete pod \"$p\"; done",
    "printf '%s\n' @V@ | while read -r l; do echo \"$l\"; done",
    "for h in @V@; do ping -c1 \"$h\"; done",
    "for s in @V@; do systemctl restart \"$s\"; done",
    "log() { printf '%s\n' \"$*\" >> /tmp/drctl.log; }; log @V@",
    "f() { cat; }; printf '%s' @V@ | f",
    "timeout 10 curl -sf -- @V@",
    "nice -n 10 tar -czf b.tgz -- @V@",
    "sudo -u postgres psql -d @V@ -c 'select 1'",
    "sudo systemctl restart @V@",
    "sudo -E env X=@V@ printenv X",
    "echo @V@ | less",
    "cat @V@",
    "cat -- @V@",
    "head -n 5 -- @V@",
    "tail -f @V@",
    "wc -l < @V@",
    "sort -o sorted.txt -- @V@",
    "diff @V@ expected.txt",
    "cmp <(printf '%s' @V@) expected.txt",
    "openssl x509 -in @V@ -noout -subject",
    "openssl s_client -connect @V@:443 </dev/null",
    "openssl enc -d -aes-256-cbc -pass pass:@V@ -in f",
    "date -d @V@",
    "sleep @V@",
    "logger -t drctl @V@",
    "printf '%s' @V@ | logger -t drctl",
    "printf '%s' @V@ | python3 -m json.tool",
    "printf '%s' @V@ | python3 -c 'import sys,json; print(json.load(sys.stdin))'",
    "printf '%s' @V@ > \"$(mktemp)\"",
    "printf '%s' @V@ > /tmp/@V@.txt",
    "touch /tmp/@V@",
    "mkdir -p /srv/backups/@V@",
    "rm -f -- /tmp/@V@",
    "x=@V@; [ -n \"$x\" ] && printf '%s' \"$x\"",
    "x=@V@; case $x in ''|*[!0-9]*) exit 1;; esac; sleep \"$x\"",
    "x=@V@; printf '%s' \"${x^^}\"",
    "x=@V@; printf '%s' \"${x//\\//_}\"",
    "x=@V@; y=${x%%.*}; printf '%s' \"$y\"",
    "read -r a b <<< @V@; printf '%s|%s' \"$a\" \"$b\"",
    "IFS=, read -ra parts <<< @V@; printf '%s' \"${parts[0]}\"",
    "mapfile -t lines < <(printf '%s\n' @V@); printf '%s' \"${#lines[@]}\"",
    "export TAG=@V@; envsubst < tmpl.yaml",
    "cat > /tmp/cfg.json <<EOF\n{\"name\": \"@V@\"}\nEOF\njq . /tmp/cfg.json",
    "echo \"@V@\" | column -t",
    "printf '%s' @V@ | iconv -f utf-8 -t ascii//TRANSLIT",
    "printf '%s' @V@ | gzip > out.gz",
    "printf '%s' @V@ | xxd -p",
    "printf '%s' @V@ | tr -d '\n' | wc -c",
    "printf '%s' @V@ | watch -n1 cat",
    "watch -x kubectl get pod @V@",
    "flock /tmp/l printf '%s' @V@",
    "env X=@V@ printenv X",
    "zip -r out.zip ./@V@",
    "cd /tmp; printf '%s' @V@ > out.txt; cat out.txt",
    "git config user.email \"ops+@V@@example.com\"",
    "aws configure set region @V@",
    "kubectl logs -p @V@",
    "sort -- @V@",
    "sort -u -- @V@",
    "sort -o @V@ file",
    "man -- @V@",
    "apt-get install -y -- @V@",
    "apt-get install -y pkg-@V@",
    "curl -- @V@",
    "curl \"https://h/@V@\"",
    "curl -H \"X: @V@\" https://h/",
    "helm install x -n @V@ chart",
    "openssl x509 -in @V@ -noout",
    "openssl s_client -connect @V@:443 -servername @V@",
    "gpg -r @V@ -e f",
    "mail -s @V@ root",
    "tcpdump -i @V@ -c 1",
    "find ./@V@ -name x",
    "find . -name @V@",
    "nmap -p 443 -- @V@",
    "rpm -q -- @V@",
    "dnf install -y -- @V@",
    "sendmail -f @V@ -- root < msg",
    "faketime now printf '%s' @V@",
    "perf stat -e cycles printf '%s' @V@",
    "ip netns exec ns printf '%s' @V@",
    "lxc exec c -- printf '%s' @V@",
    "systemd-nspawn -D /r printf '%s' @V@",
    "xvfb-run -a printf '%s' @V@",
    "yq eval '.a' @V@",
    "yq '.a' -- @V@",
    "julia -e 'println(ARGS[1])' @V@",
    "gnuplot -e 'print ARGV[1]' script.gp",
    "echo @V@ > notes.txt",
    "echo @V@ > out.json",
    "echo @V@ | tee f",
    "printf '%s' @V@ > Makefile.txt",
    "printf '%s' @V@ > .sh",
];
