// Registers the global `/userz` application command (`report`, `link`) with Discord.
// Run: DISCORD_APPLICATION_ID=… DISCORD_BOT_TOKEN=… node --import ./scripts/register-ts.js scripts/register-discord-command.ts [guildId]
// With a guild id the command is registered on that server only (appears at once; global
// commands can take up to an hour).
import { REST, type RESTOptions } from '@discordjs/rest';

// @discordjs/rest types its fetch narrowly; the global fetch is what it calls (and what nock intercepts).
type RestRequest = RESTOptions['makeRequest'];
import { Routes } from 'discord-api-types/v10';
import { USERZ_COMMAND } from '../src/intake/index.js';

const applicationId = process.env.DISCORD_APPLICATION_ID;
const token = process.env.DISCORD_BOT_TOKEN;
if (!applicationId || !token) {
  console.error('Set DISCORD_APPLICATION_ID and DISCORD_BOT_TOKEN');
  process.exit(2);
}
const guildId = process.argv[2];
const rest = new REST({ makeRequest: fetch as unknown as RestRequest }).setToken(token);
const route = guildId ? Routes.applicationGuildCommands(applicationId, guildId) : Routes.applicationCommands(applicationId);
const created = (await rest.post(route, { body: USERZ_COMMAND })) as { id: string; name: string };
console.log(`Registered /${created.name} (${created.id})${guildId ? ` on guild ${guildId}` : ' globally'}`);
