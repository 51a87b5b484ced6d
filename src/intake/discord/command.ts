import { ApplicationCommandOptionType, type RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord-api-types/v10';

/** The `/userz report text:<…>` command, registered by scripts/register-discord-command.ts. */
export const USERZ_COMMAND: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: 'userz',
  description: 'Report a problem with this product',
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'report',
      description: 'Describe what went wrong',
      options: [{ type: ApplicationCommandOptionType.String, name: 'text', description: 'What went wrong?', required: true, max_length: 4000 }],
    },
  ],
};
