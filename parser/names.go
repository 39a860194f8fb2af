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

// knownSlots is knownNames as an open-addressed table indexed by
// nameHash: lower looks a name up for every node of both views, and a
// map's string hash cost more than the lowering.
var knownSlots [1024]string

// nameHash is the hash knownSlots is indexed by, computed by lower on the
// lower-case bytes as it goes.
func nameHash(h uint32, c byte) uint32 { return h*31 + uint32(c) }

func addKnownSlot(name string) {
	var h uint32
	for i := 0; i < len(name); i++ {
		h = nameHash(h, name[i])
	}
	for i := h % uint32(len(knownSlots)); ; i = (i + 1) % uint32(len(knownSlots)) {
		if knownSlots[i] == "" || knownSlots[i] == name {
			knownSlots[i] = name
			return
		}
	}
}

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
	for name := range knownNames {
		if len(name) <= maxKnownName {
			addKnownSlot(name)
		}
	}
}

// LowerName returns the ASCII lower case of a directive or section name
// (httpd compares names with strcasecmp), without allocating for a name already in lower
// case or one the loader knows (SetHandler, DocumentRoot, …): for rules,
// the planner and the shim, which switch on a node's name once per node.
func LowerName(s string) string { return lower(s) }

// lower returns the ASCII lower case of a directive or section name
// (httpd compares them with strcasecmp), for the switches that dispatch on
// it. A name already in lower case comes back as it is; a known name
// comes from knownSlots; only other names allocate.
func lower(s string) string {
	if len(s) > maxKnownName {
		return strings.ToLower(s)
	}
	var buf [maxKnownName]byte
	upper := false
	var h uint32
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
			upper = true
		}
		buf[i] = c
		h = nameHash(h, c)
	}
	if !upper {
		return s
	}
	key := buf[:len(s)]
	for i := h % uint32(len(knownSlots)); knownSlots[i] != ""; i = (i + 1) % uint32(len(knownSlots)) {
		if knownSlots[i] == string(key) {
			return knownSlots[i]
		}
	}
	return string(key)
}
