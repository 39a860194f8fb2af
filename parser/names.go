package parser

import "strings"

// maxKnownName is the length of the longest name lower looks up.
const maxKnownName = 32

// knownNames holds the lower-case spelling of the directive and section
// names the loader dispatches on, so that lower returns them without
// allocating. It is built once and never grows: a cache filled from the
// files read kept every distinct name, and with it the whole file it was
// sliced from, for the life of the process.
var knownNames = map[string]string{}

func init() {
	for name := range directiveModules {
		name = strings.Trim(name, "<>")
		knownNames[name] = name
	}
	for _, name := range []string{"virtualhost", "customlog", "listen", "namevirtualhost", "servertokens",
		"serversignature", "hostnamelookups", "pidfile", "mutex", "keepalivetimeout", "maxkeepaliverequests",
		"addoutputfilterbytype", "expiresactive", "expiresbytype", "expiresdefault", "logformat", "order",
		"allow", "deny", "satisfy", "authtype", "authname", "authuserfile", "rewritebase", "rewriteoptions",
		"rewritemap", "proxypassreverse", "proxyrequests", "proxypreservehost", "sslcertificatefile",
		"sslcertificatekeyfile", "sslcertificatechainfile", "sslprotocol", "sslciphersuite", "indexoptions",
		"defaulttype", "adddefaultcharset", "addcharset", "removehandler", "removetype", "forcetype",
		"browsermatch", "limitrequestbody", "startservers", "minspareservers", "maxspareservers",
		"maxrequestworkers", "maxconnectionsperchild", "serverlimit", "threadsperchild"} {
		knownNames[name] = name
	}
}

// lower returns the ASCII lower case of a directive or section name
// (httpd compares them with strcasecmp), for the switches that dispatch on
// it. A name already in lower case comes back as it is; a known name
// comes from knownNames; only other names allocate.
func lower(s string) string {
	if len(s) > maxKnownName {
		return strings.ToLower(s)
	}
	var buf [maxKnownName]byte
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
			upper = true
		}
		buf[i] = c
	}
	if !upper {
		return s
	}
	if k, ok := knownNames[string(buf[:len(s)])]; ok {
		return k
	}
	return string(buf[:len(s)])
}
