package rules

import (
	"fmt"
	"github.com/modphp-migrate/modphp-migrate/rules/internal/facts"
	"strings"
)

// phpModuleMPM is MPM2001: mod_php and the MPM, before and after the switch.
var phpModuleMPM = register(&Rule{
	Code:     "MPM2001",
	Title:    "mod_php and the MPM",
	Severity: Error,
	Origin:   Today,
	Doc: Doc{
		Text: `Checks mod_php against the MPM Apache runs, and reports where the migration stands.

- **mod_php with a threaded MPM** (mpm_worker, mpm_event): Debian's mod_php is not thread-safe and Apache refuses to start (` + "`Apache is running a threaded MPM, but your PHP Module is not compiled to be threadsafe`" + `, ` + "`AH00013: Pre-configuration failed`" + `; docs/behaviour.md#b-threaded-mpm). This is the usual accident of switching to mpm_event before unloading mod_php. Error.
- **mod_php still loaded while php-fpm is configured** (a php-fpm configuration with pools, or a handler to php-fpm in Apache): info with the migration status — php-fpm not used yet, or used while mod_php is still loaded (see MPM2002).
- **prefork kept although PHP is served by php-fpm** and mod_php is gone: prefork was only needed for mod_php; mpm_event serves the same load with far fewer processes. Info.`,
		Before: "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\nLoadModule php_module /usr/lib/apache2/modules/libphp8.2.so\n",
		After:  "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\nLoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so\nLoadModule proxy_fcgi_module /usr/lib/apache2/modules/mod_proxy_fcgi.so\n<FilesMatch \"\\.php$\">\n    SetHandler \"proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost\"\n</FilesMatch>\n",
		Since:  "0.1.0",
	},
	Run: runPHPModuleMPM,
})

func runPHPModuleMPM(p *Pass) {
	php, hasPHP := facts.PHPModule(p.Today)
	mpm, hasMPM := facts.MPMModule(p.Today)
	var inToday, inAfter []*facts.Handler
	for _, h := range p.facts.Handlers() {
		if h.Entry.Today {
			inToday = append(inToday, h)
		}
		if h.Entry.After {
			inAfter = append(inAfter, h)
		}
	}
	if hasPHP {
		if p.Today.MPM == "worker" || p.Today.MPM == "event" {
			var rel []Related
			if hasMPM {
				rel = append(rel, Related{Pos: mpm.Pos, Message: "the threaded MPM is loaded here"})
			}
			p.Report(Diagnostic{Pos: php.Pos, Severity: Error, Related: rel,
				Message: fmt.Sprintf("mod_php is loaded with the threaded mpm_%s: Apache refuses to start (PHP is not thread-safe); unload mod_php and serve PHP with php-fpm, or go back to mpm_prefork", p.Today.MPM)})
		}
		pools := p.facts.Pools()
		switch {
		case len(inToday) > 0:
			h := inToday[0]
			p.Report(Diagnostic{Pos: php.Pos, Severity: Info,
				Related: []Related{{Pos: h.Node.Pos, Message: "PHP already goes to php-fpm here"}},
				Message: "migration status: mod_php is still loaded although PHP goes to php-fpm (" + h.Where() + "); once every site works under php-fpm, unload mod_php (a2dismod " + facts.PHPModName(php.Path) + ")"})
		case len(pools) > 0:
			names := make([]string, 0, len(pools))
			for _, pl := range pools {
				names = append(names, pl.Name)
			}
			p.Report(Diagnostic{Pos: php.Pos, Severity: Info,
				Related: []Related{{Pos: pools[0].Pos, Message: "php-fpm pool " + pools[0].Name}},
				Message: "migration status: mod_php serves PHP; php-fpm is configured (pool " + strings.Join(names, ", ") + ") but Apache sends nothing to it yet"})
		}
		return
	}
	if p.Today.MPM == "prefork" && hasMPM && len(inAfter) > 0 {
		h := inAfter[0]
		p.Report(Diagnostic{Pos: mpm.Pos, Severity: Info,
			Related: []Related{{Pos: h.Node.Pos, Message: "PHP goes to php-fpm here"}},
			Message: "PHP is served by php-fpm (" + h.Where() + ") and mod_php is not loaded, so prefork is no longer needed: switch to mpm_event (a2dismod mpm_prefork && a2enmod mpm_event)"})
	}
}
