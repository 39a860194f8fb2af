// Package parser reads Apache httpd configuration exactly as httpd 2.4 reads
// it: physical lines joined by backslash continuation, comments, directives
// and nested sections with file, line and column on every node; and a loader
// that follows Include/IncludeOptional, Define and the <IfModule> family to
// build a model of the server (modules, MPM, virtual hosts, directories,
// .htaccess files) in two views: today, and after mod_php is removed.
package parser
