// Command gentree writes a large Apache httpd configuration tree for
// benchmarks: a main httpd.conf that loads only the modules the tree needs,
// one file per virtual host included with IncludeOptional, optional .htaccess
// files, and optionally one docroot with many files for the permission walk.
// Real Apache accepts the tree:
//
//	go run ./bench/gentree -vhosts 10000 -htaccess 500 -out /tmp/tree
//	apache2 -d /tmp/tree -f /tmp/tree/httpd.conf -t
//
// Output is deterministic: the same flags give the same bytes, except that
// absolute paths contain -out.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// options are the generator's flags.
type options struct {
	vhosts       int    // number of <VirtualHost> files
	htaccess     int    // docroots that get a .htaccess
	docrootFiles int    // files in the big docroot (site00000), 0 for none
	modules      string // directory holding mod_*.so
	out          string // output directory, created; must be empty
}

// stats describes what generate wrote.
type stats struct {
	VhostLines    int // lines in sites/*.conf
	VhostBytes    int64
	Htaccess      int
	DocrootFiles  int // regular files in the big docroot
	WorldWritable int // files and directories there with o+w
}

func main() {
	var o options
	fs := flag.NewFlagSet("gentree", flag.ContinueOnError)
	fs.IntVar(&o.vhosts, "vhosts", 10000, "number of virtual hosts (one file each)")
	fs.IntVar(&o.htaccess, "htaccess", 0, "number of docroots that get a .htaccess")
	fs.IntVar(&o.docrootFiles, "docroot-files", 0, "files in nested directories of site00000's docroot, some world-writable")
	fs.StringVar(&o.modules, "modules", "/usr/lib/apache2/modules", "directory of Apache's mod_*.so for LoadModule")
	fs.StringVar(&o.out, "out", "", "output directory (created; must be empty)")
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if o.out == "" || fs.NArg() != 0 || o.vhosts < 1 || o.htaccess < 0 || o.htaccess > o.vhosts || o.docrootFiles < 0 {
		fmt.Fprintln(os.Stderr, "usage: gentree -out DIR [-vhosts N] [-htaccess N<=vhosts] [-docroot-files N] [-modules DIR]")
		os.Exit(2)
	}
	st, err := generate(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gentree:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gentree: %d vhosts (%d lines, %d bytes), %d .htaccess, %d docroot files (%d world-writable) in %s\n",
		o.vhosts, st.VhostLines, st.VhostBytes, st.Htaccess, st.DocrootFiles, st.WorldWritable, o.out)
}

// siteName is the name of vhost i, also its docroot directory.
func siteName(i int) string { return fmt.Sprintf("site%05d", i) }

// generate writes the tree described by o.
func generate(o options) (stats, error) {
	var st stats
	out, err := filepath.Abs(o.out)
	if err != nil {
		return st, err
	}
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		return st, fmt.Errorf("%s is not empty", out)
	}
	for _, d := range []string{"sites", "conf.d", "conf", "run", "logs", "www"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return st, err
		}
	}
	if err := writeFile(filepath.Join(out, "httpd.conf"), func(w io.Writer) error { return mainConf(w, out, o.modules) }); err != nil {
		return st, err
	}
	if err := os.WriteFile(filepath.Join(out, "conf.d", "php-fpm.conf"), []byte(phpFPMConf), 0o644); err != nil {
		return st, err
	}
	if err := os.WriteFile(filepath.Join(out, "conf", "mime.types"), []byte(mimeTypes), 0o644); err != nil {
		return st, err
	}
	// .htaccess files are spread evenly over the vhosts.
	withHtaccess := func(i int) bool {
		return o.htaccess > 0 && i*o.htaccess/o.vhosts != (i+1)*o.htaccess/o.vhosts
	}
	for i := range o.vhosts {
		name := siteName(i)
		lines, n, err := writeVhost(filepath.Join(out, "sites", name+".conf"), i)
		if err != nil {
			return st, err
		}
		st.VhostLines += lines
		st.VhostBytes += n
		docroot := filepath.Join(out, "www", name, "public")
		if err := os.MkdirAll(docroot, 0o755); err != nil {
			return st, err
		}
		if withHtaccess(i) {
			if err := os.WriteFile(filepath.Join(docroot, ".htaccess"), []byte(htaccessFor(i)), 0o644); err != nil {
				return st, err
			}
			st.Htaccess++
		}
	}
	if o.docrootFiles > 0 {
		files, ww, err := writeDocroot(filepath.Join(out, "www", siteName(0), "public"), o.docrootFiles)
		if err != nil {
			return st, err
		}
		st.DocrootFiles, st.WorldWritable = files, ww
	}
	return st, nil
}

// writeFile creates path and fills it through a buffered writer.
func writeFile(path string, fill func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := fill(w); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// mainModules are the modules the generated tree needs, in load order. mod_log_config,
// mod_so and mod_unixd are compiled into Debian's apache2.
var mainModules = []struct{ name, file string }{
	{"mpm_event_module", "mod_mpm_event.so"},
	{"authz_core_module", "mod_authz_core.so"},
	{"authz_host_module", "mod_authz_host.so"},
	{"alias_module", "mod_alias.so"},
	{"dir_module", "mod_dir.so"},
	{"mime_module", "mod_mime.so"},
	{"rewrite_module", "mod_rewrite.so"},
	{"setenvif_module", "mod_setenvif.so"},
	{"env_module", "mod_env.so"},
	{"headers_module", "mod_headers.so"},
	{"proxy_module", "mod_proxy.so"},
	{"proxy_fcgi_module", "mod_proxy_fcgi.so"},
}

func mainConf(w io.Writer, out, modules string) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# Generated by bench/gentree. Check with: apache2 -d %s -f %s -t\n", out, filepath.Join(out, "httpd.conf"))
	p("ServerRoot %q\n", out)
	p("Define TREE %q\n", out)
	p("Define WWW \"${TREE}/www\"\n")
	p("Define HTTP_PORT 8080\n")
	p("Define FPM_SOCKET /run/php/php8.2-fpm.sock\n\n")
	for _, m := range mainModules {
		p("LoadModule %s %s\n", m.name, filepath.Join(modules, m.file))
	}
	p(`
ServerName localhost
Listen 127.0.0.1:${HTTP_PORT}
DefaultRuntimeDir run
PidFile run/httpd.pid
ErrorLog logs/error.log
LogLevel warn
TypesConfig conf/mime.types
LogFormat "%%v %%h %%l %%u %%t \"%%r\" %%>s %%O" vhost_common
Header always set X-Content-Type-Options "nosniff"

<IfModule mpm_event_module>
    StartServers 2
    MaxRequestWorkers 150
</IfModule>

<Directory />
    Options FollowSymLinks
    AllowOverride None
    Require all denied
</Directory>

<Directory "${WWW}">
    AllowOverride None
    Require all granted
</Directory>

AccessFileName .htaccess
<FilesMatch "^\.ht">
    Require all denied
</FilesMatch>

IncludeOptional conf.d/*.conf
IncludeOptional sites/*.conf
`)
	return nil
}

const phpFPMConf = `# PHP through php-fpm for every vhost that does not choose its own handler.
<IfModule proxy_fcgi_module>
    <FilesMatch ".+\.ph(?:ar|p|tml)$">
        SetHandler "proxy:unix:${FPM_SOCKET}|fcgi://localhost"
    </FilesMatch>
    <FilesMatch "^\.ph(?:ar|p|ps|tml)$">
        Require all denied
    </FilesMatch>
</IfModule>
`

const mimeTypes = `# Minimal mime.types for the generated tree.
text/html					html htm
text/css					css
text/plain					txt
application/javascript				js
application/json				json
image/png					png
image/jpeg					jpeg jpg
`

// vhostLines is the number of lines every generated vhost file has; the
// variants below swap lines but keep the count.
const vhostLines = 20

// writeVhost writes the file of vhost i: 20 lines, ~700 bytes, with a few
// deterministic variants so rules see a mix of handlers and guards.
func writeVhost(path string, i int) (lines int, n int64, err error) {
	name := siteName(i)
	var handler, extra1, extra2 string
	switch {
	case i%10 == 3:
		// The risky pattern from old tutorials (docs/behaviour.md#b-ppm-no-htaccess).
		handler = `    ProxyPassMatch "^/(.*\.php(/.*)?)$" "fcgi://127.0.0.1:9000${WWW}/` + name + `/public/$1"`
	case i%10 == 7:
		// The defence against PHP_VALUE injection (docs/behaviour.md#b-env-to-fpm).
		handler = `    ProxyFCGISetEnvIf "true" !PHP_VALUE`
	default:
		handler = `    SetEnvIfNoCase ^Authorization$ "(.+)" HTTP_AUTHORIZATION=$1`
	}
	switch i % 4 {
	case 0:
		extra1, extra2 = `        php_value upload_max_filesize 32M`, `        php_admin_value open_basedir "${WWW}/`+name+`:/tmp"`
	case 1:
		extra1, extra2 = `        php_flag display_errors Off`, `        php_value max_input_vars 3000`
	case 2:
		extra1, extra2 = `        php_value memory_limit 256M`, `        php_admin_flag allow_url_fopen Off`
	default:
		extra1, extra2 = `        php_value session.gc_maxlifetime 7200`, `        php_value post_max_size 32M`
	}
	text := fmt.Sprintf(`# %[1]s.example.test, generated by bench/gentree
<VirtualHost *:${HTTP_PORT}>
    ServerName %[1]s.example.test
    ServerAlias www.%[1]s.example.test
    DocumentRoot "${WWW}/%[1]s/public"
    DirectoryIndex index.php index.html
    <Directory "${WWW}/%[1]s/public">
        Options -Indexes +FollowSymLinks
        AllowOverride All
        Require all granted
    </Directory>
%[2]s
    <IfModule mod_php.c>
%[3]s
%[4]s
    </IfModule>
    RewriteEngine On
    RewriteRule "^/old-blog/(.*)$" "/blog/$1" [R=301,L]
    CustomLog "logs/access.log" vhost_common
`, name, handler, extra1, extra2)
	text += "</VirtualHost>\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return 0, 0, err
	}
	for _, c := range text {
		if c == '\n' {
			lines++
		}
	}
	return lines, int64(len(text)), nil
}

// htaccessFor returns the .htaccess of docroot i: a front-controller rewrite
// plus php_value lines under guards that do and do not match PHP 8's module.
func htaccessFor(i int) string {
	s := `# generated by bench/gentree
<IfModule mod_rewrite.c>
    RewriteEngine On
    RewriteCond %{HTTP:Authorization} .
    RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]
    RewriteCond %{REQUEST_FILENAME} !-f
    RewriteCond %{REQUEST_FILENAME} !-d
    RewriteRule ^ index.php [L]
</IfModule>
<IfModule mod_php.c>
    php_value upload_max_filesize 64M
    php_value post_max_size 64M
</IfModule>
<IfModule mod_php7.c>
    php_value max_input_vars 3000
</IfModule>
`
	if i%2 == 1 {
		s += "SetEnv APP_ENV production\n"
	}
	return s
}

// writeDocroot fills root with n files spread over nested directories
// (d000/e00/…), 50 files per leaf directory. Every 97th file is mode 0666 and
// every 13th leaf directory 0777; the rest are 0644 and 0755. It returns the
// number of files and of world-writable entries.
func writeDocroot(root string, n int) (files, worldWritable int, err error) {
	const perDir, perMid = 50, 20
	content := []byte("<?php echo 'ok';\n")
	for i := range n {
		leaf := i / perDir
		dir := filepath.Join(root, fmt.Sprintf("d%03d", leaf/perMid), fmt.Sprintf("e%02d", leaf%perMid))
		if i%perDir == 0 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return files, worldWritable, err
			}
			if leaf%13 == 12 {
				if err := os.Chmod(dir, 0o777); err != nil {
					return files, worldWritable, err
				}
				worldWritable++
			}
		}
		ext := [...]string{".php", ".css", ".jpg", ".html"}[i%4]
		path := filepath.Join(dir, fmt.Sprintf("f%06d%s", i, ext))
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return files, worldWritable, err
		}
		if i%97 == 96 {
			// Chmod, not WriteFile's mode: the umask would strip o+w.
			if err := os.Chmod(path, 0o666); err != nil {
				return files, worldWritable, err
			}
			worldWritable++
		}
		files++
	}
	return files, worldWritable, nil
}
