package migrate

import (
	"path"
	"strings"
)

// neededModules are loaded for php-fpm behind mod_proxy_fcgi, the
// setenvif one for Debian's Authorization handling.
var neededModules = []string{"mpm_event", "proxy", "proxy_fcgi", "setenvif"}

// modules plans a2dismod php8.2 mpm_prefork, a2enmod mpm_event proxy_fcgi
// setenvif and a2enconf modphp-migrate-fpm, as the symlinks Debian's tools
// make; other layouts get a note.
func (b *builder) modules() {
	if !b.isDebian() {
		b.note("not a Debian layout: load mpm_event, mod_proxy and mod_proxy_fcgi, unload mod_php and mpm_prefork, and Include " + b.confPath() + " by hand")
		return
	}
	dir := b.confDir()
	enabled := path.Join(dir, "mods-enabled")
	for _, f := range b.listDir(enabled) {
		if isPHPModuleFile(f) || strings.HasPrefix(f, "mpm_") && !strings.HasPrefix(f, "mpm_event.") {
			b.remove(path.Join(enabled, f))
		}
	}
	for _, m := range neededModules {
		for _, ext := range []string{".load", ".conf"} {
			if _, err := b.fs.Stat(b.host(path.Join(dir, "mods-available", m+ext))); err != nil {
				if ext == ".load" {
					b.note("mods-available/" + m + ".load is missing: install and enable " + m)
				}
				continue
			}
			b.symlink(path.Join(enabled, m+ext), "../mods-available/"+m+ext)
		}
	}
	b.symlink(path.Join(dir, "conf-enabled", ConfName), "../conf-available/"+ConfName)
}

func (b *builder) listDir(dir string) []string {
	ents, err := b.fs.ReadDir(b.host(dir))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func (b *builder) remove(p string) {
	link, _ := b.fs.Readlink(b.host(p))
	b.plan.Files = append(b.plan.Files, &File{Path: p, Action: "remove", Link: link})
}

// symlink records a link to make, unless it is already there.
func (b *builder) symlink(p, target string) {
	if cur, err := b.fs.Readlink(b.host(p)); err == nil && cur == target {
		return
	}
	if _, err := b.fs.Stat(b.host(p)); err == nil {
		return // a file of the same name enables it already
	}
	b.plan.Files = append(b.plan.Files, &File{Path: p, Action: "symlink", Link: target})
}
