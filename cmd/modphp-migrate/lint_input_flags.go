package main

import (
	"errors"

	"github.com/spf13/pflag"
)

// addLintInputFlags adds the flags that say how a FILE argument is read.
func addLintInputFlags(fs *pflag.FlagSet, f *lintFlags) {
	fs.StringArrayVarP(&f.mainFiles, "main-file", "f", nil, "lint `FILE` as a server's main configuration file, with the tree it includes, like apache2 -f (repeatable)")
	fs.StringVar(&f.stdinFilename, "stdin-filename", "", "the `NAME` of the file lint - reads from standard input, used in findings and to tell a .htaccess file")
}

// checkLintInput checks the arguments against those flags: - at most once,
// and --stdin-filename only with it.
func checkLintInput(f *lintFlags, paths []string) error {
	n := 0
	for _, p := range paths {
		if p == stdinPath {
			n++
		}
	}
	switch {
	case n > 1:
		return errors.New("- (standard input) may be given once")
	case n == 0 && f.stdinFilename != "":
		return errors.New("--stdin-filename names the file read with -; no - given")
	}
	return nil
}
