package main

import (
	"errors"
	"flag"
)

// liveFlags registers the websocket's caps on connections.
func liveFlags(fs *flag.FlagSet, env *envDefaults, cfg *config) func(*config) error {
	fs.IntVar(&cfg.live.MaxPerUser, "ws-max-per-user", env.integer("TILEDESK_WS_MAX_PER_USER", 64),
		"websocket connections one user or visitor may hold at once; more are refused with 429 (TILEDESK_WS_MAX_PER_USER)")
	fs.IntVar(&cfg.live.MaxPerAddress, "ws-max-per-address", env.integer("TILEDESK_WS_MAX_PER_ADDRESS", 1024),
		"websocket connections one client address may hold at once (behind a proxy, list it in --trusted-proxy) (TILEDESK_WS_MAX_PER_ADDRESS)")
	return func(cfg *config) error {
		if cfg.live.MaxPerUser < 1 || cfg.live.MaxPerAddress < 1 {
			return errors.New("--ws-max-per-user and --ws-max-per-address: at least 1")
		}
		return nil
	}
}
