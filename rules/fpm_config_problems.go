package rules

import (
	"github.com/modphp-migrate/modphp-migrate/internal/fpmconf"
)

// fpmConfigProblems is MPM0020: what internal/fpmconf finds wrong in
// php-fpm's configuration and php.ini, with the same file:line:col
// positions as the Apache side's loader problems.
var fpmConfigProblems = register(&Rule{
	Code:     "MPM0020",
	Title:    "php-fpm configuration problem",
	Severity: Error,
	Doc: Doc{
		Text: `php-fpm's configuration (` + "`--fpm-config`" + `, by default /etc/php/*/fpm/php-fpm.conf with its include= files) or the php.ini and conf.d its pools read has a problem.

An error is one php-fpm refuses to start with (` + "`php-fpm -t`" + ` fails: an unknown directive, a bad value, a pool without listen or pm.max_children), or a php.ini syntax error at which PHP stops reading the file, so every setting after it is lost. A warning is accepted but probably not meant: an include= that matches nothing, a php_value for a directive PHP does not know, a ${VAR} that is not set. The messages say what php-fpm itself would do (docs/behaviour.md#b-fpm-config).

The rules that compare Apache with php-fpm (MPM20xx) read the configuration as php-fpm would, so fix these first.`,
		Before: "; /etc/php/8.2/fpm/pool.d/site.conf\n[site]\nlisten = /run/php/site.sock\npm = dynamic\n",
		After:  "; /etc/php/8.2/fpm/pool.d/site.conf\n[site]\nlisten = /run/php/site.sock\npm = dynamic\npm.max_children = 10\npm.start_servers = 2\npm.min_spare_servers = 1\npm.max_spare_servers = 3\n",
		Since:  "0.1.0",
	},
	Run: runFPMConfigProblems,
})

func runFPMConfigProblems(p *Pass) {
	f := p.Options.FPM
	if f == nil {
		return
	}
	var ds []fpmconf.Diagnostic
	if f.INI != nil {
		ds = append(ds, f.INI.Diagnostics...)
	}
	if f.Config != nil {
		ds = append(ds, f.Config.Diagnostics...)
	}
	for _, d := range ds {
		sev := Warning
		if d.Severity == fpmconf.SeverityError {
			sev = Error
		}
		p.Report(Diagnostic{Pos: d.Pos, Severity: sev, Message: d.Message})
	}
}
