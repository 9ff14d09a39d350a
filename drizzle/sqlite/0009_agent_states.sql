CREATE TABLE `agent_states` (
	`client_id` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`changed_at` integer NOT NULL,
	`changed_by` text NOT NULL,
	CONSTRAINT "agent_states_state" CHECK("agent_states"."state" in ('active', 'suspended', 'retired'))
);
