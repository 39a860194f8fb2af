package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/modphp-migrate/modphp-migrate/shim"
)

// checkAllPools is shim --check without --pool: it reads what the shim
// would read at start (every pool of --fpm-config with its INI baseline,
// and --apache-config) and prints each pool as php-fpm listens on it. The
// shim's own socket and the pool it forwards to are not needed for that.
func checkAllPools(ctx context.Context, cfg shim.Config, stdout io.Writer, log *slog.Logger) int {
	pools, err := cfg.Source.LoadPools(ctx, cfg.FPMConfig, cfg.PHPINI)
	if err != nil {
		log.Error("cannot start", "err", fmt.Errorf("loading php-fpm pools: %w", err))
		return exitInternal
	}
	if _, err := shim.NewResolver(cfg.AccessNames, cfg.ApacheConfig); err != nil {
		log.Error("cannot start", "err", err)
		return exitInternal
	}
	for _, p := range pools {
		listen := p.Listen
		if strings.HasPrefix(listen, "/") {
			listen = "unix:" + listen
		}
		fmt.Fprintf(stdout, "pool %s max_children=%d (pool %s)\n", listen, p.MaxChildren, p.Name)
	}
	return exitOK
}
