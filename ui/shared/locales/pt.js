// Portuguese message catalogue (neutral, leaning Brazilian).
// REVIEW STATUS: translated by a non-native speaker (machine-assisted), NOT reviewed by a native speaker.
// See REVIEW.md before shipping; keys and placeholders must match en.js (ui/tests/locales.test.mjs).
export default {
  "banner.label": "Consentimento para a coleta de dados de uso",
  "banner.consent": "Só acessamos dados de uso com o seu consentimento.",
  "banner.optOutAnyTime": "Você pode sair e apagar seus dados a qualquer momento.",
  "banner.learnMore": "Saiba mais",
  "banner.learnMoreLabel": "Saiba mais sobre como este site usa o Offen Fair Web Analytics (abre em uma nova aba)",
  "banner.allow": "Eu permito",
  "banner.deny": "Não permito",
  "banner.thanks": "Obrigado por ajudar a melhorar este site.",
  "banner.manage": "Para gerenciar seus dados de uso, abra o Auditório.",
  "banner.openAuditorium": "abra o Auditório",
  "banner.openAuditoriumLabel": "Abrir o Auditório para gerenciar seus dados de uso (abre em uma nova aba)",
  "banner.continue": "Continuar",
  "banner.continueLabel": "Continuar e fechar esta mensagem",

  "auditorium.documentTitle": "Seus dados de uso – Offen Fair Web Analytics",
  "auditorium.title": "Seus dados de uso",
  "auditorium.intro":
    "Você está vendo seus dados de uso. Eles foram decifrados neste navegador; ninguém mais pode lê-los desta forma.",
  "auditorium.product": "Offen Fair Web Analytics",
  "auditorium.close": "Fechar",
  "auditorium.closeLabel": "Fechar o Auditório",
  "auditorium.loading": "Carregando seus dados de uso…",
  "auditorium.working": "Um momento…",
  "auditorium.error": "Não foi possível carregar seus dados de uso: {message}",
  "auditorium.errorHint": "Recarregue a página para tentar de novo.",
  "auditorium.errorTimeout": "o cofre não respondeu a tempo",
  "auditorium.cookiesBlocked":
    "Parece que o seu navegador está bloqueando cookies deste site. O Offen não consegue lembrar sua decisão nem mostrar seus dados de uso.",
  "auditorium.explainer": "O que isso significa?",

  "privacy.heading": "Privacidade",
  "privacy.statusAllow": "Você aceitou. Este site pode coletar seus dados de uso.",
  "privacy.statusDeny": "Você saiu. Nenhum dado de uso é coletado.",
  "privacy.statusUnknown": "Você ainda não decidiu. Nenhum dado de uso é coletado até você aceitar.",
  "privacy.optOutText": "Sair e apagar os dados de uso",
  "privacy.optOut": "Sair",
  "privacy.deleteText": "Continuar participando, apagar apenas os dados de uso",
  "privacy.delete": "Apagar",
  "privacy.optInText": "Participar e dar acesso aos seus dados de uso",
  "privacy.optIn": "Participar",
  "privacy.doneOptIn": "Você aceitou.",
  "privacy.doneOptOut": "Você saiu. Seus dados de uso foram apagados do servidor e deste navegador.",
  "privacy.doneDelete": "Seus dados de uso foram apagados. Você continua participando.",
  "privacy.explainer":
    "Sair apaga todos os seus dados de uso no servidor e neste navegador e interrompe a coleta. Apagar mantém sua decisão, mas remove os dados coletados até agora.",

  "export.heading": "Leve seus dados com você",
  "export.text": "Baixe, decifrados, todos os dados de uso que este navegador guarda sobre você, em um arquivo JSON.",
  "export.button": "Baixar meus dados (JSON)",
  "export.done": "Seus dados de uso foram salvos como {filename}.",

  "range.label": "Período",
  "range.last24Hours": "Últimas 24 horas",
  "range.yesterday": "Ontem",
  "range.last7Days": "Últimos 7 dias",
  "range.last30Days": "Últimos 30 dias",
  "range.last6Weeks": "Últimas 6 semanas",
  "range.last12Weeks": "Últimas 12 semanas",
  "range.last6Months": "Últimos 6 meses",
  "range.notAvailable": "{label} (indisponível)",

  "chart.heading": "Visualizações de página e sites",
  "chart.summary": "{pageviews} visualizações de página em {websites} sites, em {count} períodos",
  "chart.bar": "{date}: {pageviews} visualizações de página, {websites} sites",
  "chart.empty": "Não há dados para o período selecionado.",
  "chart.explainer":
    "Cada barra mostra quantas páginas você visualizou naquele período em sites que usam esta instalação do Offen.",

  "metrics.heading": "Métricas principais",
  "metrics.pageviews": "Visualizações de página",
  "metrics.websites": "Sites únicos",
  "metrics.sessions": "Sessões únicas",
  "metrics.pageDepth": "Profundidade média",
  "metrics.bounceRate": "Taxa de rejeição",
  "metrics.mobile": "Usuário de celular",
  "metrics.pageload": "Tempo médio de carregamento",
  "metrics.yes": "Sim",
  "metrics.no": "Não",
  "metrics.none": "–",
  "metrics.ms": "{value} ms",
  "metrics.seconds": "{value} s",
  "metrics.explainer":
    "Uma sessão é uma visita, que termina quando você fecha o navegador. A profundidade é o número de páginas por sessão; a taxa de rejeição é a parcela de sessões com uma única visualização.",

  "tables.heading": "Principais páginas e origens",
  "tables.pages": "Principais páginas",
  "tables.referrers": "Referências",
  "tables.campaigns": "Campanhas",
  "tables.sources": "Origens",
  "tables.landingPages": "Páginas de entrada",
  "tables.exitPages": "Páginas de saída",
  "tables.url": "URL",
  "tables.source": "Origem",
  "tables.campaign": "Campanha",
  "tables.pageviews": "Visualizações",
  "tables.sessions": "Sessões",
  "tables.pageDepth": "Profundidade",
  "tables.landings": "Entradas",
  "tables.exits": "Saídas",
  "tables.noReferrer": "Direto ou desconhecido",
  "tables.empty": "Sem dados",
  "tables.filterBy": "Mostrar apenas os dados de {value}",
  "tables.filterActive": "Mostrando apenas os dados em que {property} é {value}.",
  "tables.filterEmpty": "Nenhum dado corresponde a este filtro no período selecionado.",
  "tables.removeFilter": "Remover filtro",
  "tables.explainer": "Escolha uma entrada para ver apenas os dados que pertencem a ela.",
  "filter.href": "a página",
  "filter.referrer": "a referência",
  "filter.campaign": "a campanha",
  "filter.source": "a origem",
  "filter.landing": "a página de entrada",
  "filter.exit": "a página de saída",
  "filter.geo": "o país",

  "retention.heading": "Retenção semanal",
  "retention.caption": "Parcela das semanas em que você voltou",
  "retention.start": "Período inicial",
  "retention.initial": "Primeiros 7 dias",
  "retention.row": "A partir de {days} dias atrás",
  "retention.later": "{days} dias depois",
  "retention.explainer":
    "Cada linha começa com um período de 7 dias das últimas quatro semanas e mostra se você voltou nos períodos seguintes.",

  "glossary.heading": "Termos básicos",
  "glossary.auditorium": "Auditório",
  "glossary.auditoriumText":
    "Esta página. Ela mostra os dados de uso que os sites com esta instalação do Offen coletaram sobre você e permite gerenciá-los.",
  "glossary.installation": "Instalação do Offen",
  "glossary.installationText":
    "Um servidor que executa o Offen Fair Web Analytics para um ou mais sites. O próprio operador o mantém; nenhum terceiro recebe os dados.",
  "glossary.operator": "Operador",
  "glossary.operatorText":
    "A pessoa ou organização que mantém o site e esta instalação do Offen. Ela vê estatísticas de todos os visitantes que aceitaram.",
  "glossary.cookies": "Cookies",
  "glossary.cookiesText":
    "Pequenos textos que o seu navegador guarda para um site. O Offen os usa apenas para lembrar sua decisão, encontrar seus dados cifrados e agrupar as visualizações em sessões.",
  "glossary.uniqueUser": "Usuário único",
  "glossary.uniqueUserText":
    "Um navegador que aceitou, reconhecido por um ID aleatório. Ele não diz quem você é e é diferente para cada site.",
  "glossary.uniqueSession": "Sessão única",
  "glossary.uniqueSessionText":
    "Uma visita a um site. Começa com a sua primeira visualização de página e termina quando você fecha o navegador.",
  "glossary.id": "ID",
  "glossary.idText":
    "Uma sequência aleatória que liga seus dados de uso ao seu navegador. Ela não é derivada do seu nome, endereço ou aparelho.",
  "glossary.encryption": "Criptografia de ponta a ponta",
  "glossary.encryptionText":
    "Seus dados de uso são cifrados no seu navegador antes de serem enviados. Só você e o operador têm as chaves; o servidor guarda um texto cifrado que não consegue ler.",

  "faq.heading": "Perguntas frequentes",
  "faq.whatQ": "O que é o Offen Fair Web Analytics?",
  "faq.whatA":
    "Uma ferramenta de análise que respeita a privacidade. Os operadores de sites descobrem como suas páginas são usadas, e você pode ver, baixar e apagar aqui exatamente os mesmos dados sobre você.",
  "faq.collectedQ": "O que é coletado?",
  "faq.collectedA":
    "Só depois que você aceita: o endereço de cada página visualizada, a página de onde você veio (sem a consulta), o tempo de carregamento da página, se você usa um aparelho móvel, a hora, um ID de sessão e o seu país provável, deduzido do seu fuso horário.",
  "faq.notCollectedQ": "O que não é coletado?",
  "faq.notCollectedA":
    "Nenhum endereço IP, nenhum user agent ou detalhe do aparelho, nenhum tamanho de tela, nenhuma impressão digital e nenhum rastreamento entre sites. A duração das visitas não é medida.",
  "faq.encryptionQ": "Como meus dados são protegidos?",
  "faq.encryptionA":
    "Seu navegador cifra cada visualização com uma chave que só você e o operador têm. O servidor guarda apenas texto cifrado, e dados mais antigos que o período de retenção são apagados.",
  "faq.cookiesQ": "Quais cookies são usados?",
  "faq.cookiesA":
    "consent (sua decisão), user (um ID aleatório para encontrar seus dados cifrados), session-… (um por site, até você fechar o navegador) e um breve cookie de teste que é apagado na hora. Nenhum cookie é gravado antes da sua decisão, exceto consent quando você recusa.",
  "faq.deleteQ": "Como apago meus dados?",
  "faq.deleteA":
    "Use “Apagar” na seção Privacidade para remover todos os dados de uso e continuar participando, ou “Sair” para apagá-los e interromper a coleta.",
  "faq.optOutQ": "O que acontece quando eu saio?",
  "faq.optOutA":
    "Seus dados de uso são apagados no servidor e neste navegador; fica apenas um cookie que lembra a sua decisão, para que você não seja perguntado de novo.",
  "faq.exportQ": "Posso levar meus dados comigo?",
  "faq.exportA":
    "Sim. “Baixar meus dados (JSON)” salva cada visualização que este navegador consegue decifrar para você em um arquivo que pode ser aberto em qualquer editor de texto.",
  "faq.perSiteQ": "Por que sou perguntado de novo em outro site?",
  "faq.perSiteA":
    "O consentimento é dado por site, e seus dados são cifrados com uma chave diferente para cada site, para que os sites não possam combinar o que sabem sobre você.",
};
