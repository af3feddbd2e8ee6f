-- The web app's schema as db.create_all() made it before migrations existed (commit b2dbe65), sqlite.

-- tests/webapp/test_migrations.py builds it, then checks that `upgrade` takes it to the newest schema.

CREATE TABLE api_tokens (
	id INTEGER NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	user_id INTEGER NOT NULL, 
	expires_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);

CREATE UNIQUE INDEX ix_api_tokens_token_hash ON api_tokens (token_hash);

CREATE INDEX ix_api_tokens_user_id ON api_tokens (user_id);

CREATE TABLE auction_orders (
	order_id BIGINT NOT NULL, 
	round_id BIGINT NOT NULL, 
	owner VARCHAR(42) NOT NULL, 
	side VARCHAR(4) NOT NULL, 
	limit_price BIGINT NOT NULL, 
	price BIGINT NOT NULL, 
	amount_wh BIGINT NOT NULL, 
	fill_wh BIGINT, 
	money BIGINT, 
	claimed BOOLEAN NOT NULL, 
	tx_hash VARCHAR(66) NOT NULL, 
	PRIMARY KEY (order_id)
);

CREATE INDEX ix_auction_orders_owner ON auction_orders (owner);

CREATE INDEX ix_auction_orders_round_id ON auction_orders (round_id);

CREATE TABLE auction_rounds (
	round_id BIGINT NOT NULL, 
	"end" BIGINT NOT NULL, 
	sealed BOOLEAN NOT NULL, 
	retail_price BIGINT NOT NULL, 
	feed_in_tariff BIGINT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	clearing_price BIGINT, 
	volume_wh BIGINT, 
	imported_wh BIGINT, 
	exported_wh BIGINT, 
	PRIMARY KEY (round_id)
);

CREATE TABLE chain_blocks (
	number BIGINT NOT NULL, 
	hash VARCHAR(66) NOT NULL, 
	timestamp BIGINT NOT NULL, 
	tx_count INTEGER NOT NULL, 
	PRIMARY KEY (number)
);

CREATE INDEX ix_chain_blocks_hash ON chain_blocks (hash);

CREATE TABLE chain_events (
	id INTEGER NOT NULL, 
	block_number BIGINT NOT NULL, 
	tx_hash VARCHAR(66) NOT NULL, 
	log_index INTEGER NOT NULL, 
	contract VARCHAR(64) NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	args_json TEXT NOT NULL, 
	a0 VARCHAR(42), 
	a1 VARCHAR(42), 
	a2 VARCHAR(42), 
	PRIMARY KEY (id), 
	UNIQUE (tx_hash, log_index)
);

CREATE INDEX ix_chain_events_a0 ON chain_events (a0);

CREATE INDEX ix_chain_events_a1 ON chain_events (a1);

CREATE INDEX ix_chain_events_a2 ON chain_events (a2);

CREATE INDEX ix_chain_events_block_number ON chain_events (block_number);

CREATE INDEX ix_chain_events_name ON chain_events (name);

CREATE INDEX ix_chain_events_tx_hash ON chain_events (tx_hash);

CREATE TABLE chain_txs (
	hash VARCHAR(66) NOT NULL, 
	block_number BIGINT NOT NULL, 
	tx_index INTEGER NOT NULL, 
	from_addr VARCHAR(42) NOT NULL, 
	to_addr VARCHAR(42), 
	contract VARCHAR(64), 
	method VARCHAR(64), 
	status INTEGER NOT NULL, 
	gas_used BIGINT NOT NULL, 
	PRIMARY KEY (hash)
);

CREATE INDEX ix_chain_txs_block_number ON chain_txs (block_number);

CREATE INDEX ix_chain_txs_from_addr ON chain_txs (from_addr);

CREATE INDEX ix_chain_txs_to_addr ON chain_txs (to_addr);

CREATE TABLE indexer_state (
	"key" VARCHAR(64) NOT NULL, 
	value VARCHAR(255) NOT NULL, 
	PRIMARY KEY ("key")
);

CREATE TABLE meters (
	meter_id VARCHAR(66) NOT NULL, 
	serial VARCHAR(128), 
	name VARCHAR(128), 
	kind VARCHAR(32), 
	owner VARCHAR(42), 
	active BOOLEAN NOT NULL, 
	registered_block BIGINT, 
	PRIMARY KEY (meter_id)
);

CREATE INDEX ix_meters_owner ON meters (owner);

CREATE TABLE orders (
	order_id BIGINT NOT NULL, 
	side VARCHAR(4) NOT NULL, 
	maker VARCHAR(42) NOT NULL, 
	price BIGINT NOT NULL, 
	amount_wh BIGINT NOT NULL, 
	remaining_wh BIGINT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	block_number BIGINT NOT NULL, 
	tx_hash VARCHAR(66) NOT NULL, 
	timestamp BIGINT NOT NULL, 
	PRIMARY KEY (order_id)
);

CREATE INDEX ix_orders_maker ON orders (maker);

CREATE INDEX ix_orders_status ON orders (status);

CREATE TABLE readings (
	id INTEGER NOT NULL, 
	meter_id VARCHAR(66) NOT NULL, 
	interval BIGINT NOT NULL, 
	owner VARCHAR(42) NOT NULL, 
	minted_wh BIGINT NOT NULL, 
	burned_wh BIGINT NOT NULL, 
	grid_wh BIGINT NOT NULL, 
	block_number BIGINT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (meter_id, interval)
);

CREATE INDEX ix_readings_interval ON readings (interval);

CREATE INDEX ix_readings_meter_id ON readings (meter_id);

CREATE INDEX ix_readings_owner ON readings (owner);

CREATE TABLE trades (
	id INTEGER NOT NULL, 
	venue VARCHAR(16) NOT NULL, 
	buy_order_id BIGINT, 
	sell_order_id BIGINT, 
	buyer VARCHAR(42) NOT NULL, 
	seller VARCHAR(42) NOT NULL, 
	price BIGINT NOT NULL, 
	amount_wh BIGINT NOT NULL, 
	block_number BIGINT NOT NULL, 
	tx_hash VARCHAR(66) NOT NULL, 
	log_index INTEGER NOT NULL, 
	timestamp BIGINT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (tx_hash, log_index)
);

CREATE INDEX ix_trades_block_number ON trades (block_number);

CREATE INDEX ix_trades_buyer ON trades (buyer);

CREATE INDEX ix_trades_seller ON trades (seller);

CREATE TABLE users (
	id INTEGER NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	password_hash VARCHAR(255), 
	address VARCHAR(42) NOT NULL, 
	keystore TEXT, 
	is_operator BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);

CREATE UNIQUE INDEX ix_users_address ON users (address);

CREATE UNIQUE INDEX ix_users_username ON users (username);
