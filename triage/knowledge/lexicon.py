"""The helpdesk's words in German, French and Spanish with their English terms, and the words
that say nothing about a problem (per language): what lets a ticket in one language find an
article written in another (triage.knowledge.terms maps both into English terms).

General IT-helpdesk vocabulary, as a service desk's glossary would list it: devices, accounts,
mail, network, software, access and the verbs and states tickets use. It is not drawn from any
evaluation set; a word missing here still matches an article in its own language. One line per
word: the word as written (any inflection the language's stemmer folds will match), then its
English terms.
"""

from __future__ import annotations

GERMAN = """
abmelden = sign out
abgelaufen = expired
ablaufen = expire
abgemeldet = signed out
abgestürzt = crash
absturz = crash
abstürzen = crash
abteilung = department
adresse = address
aktualisieren = update
aktualisierung = update
anmelden = sign in login
anmeldung = sign in login
anmeldedaten = credentials
anhang = attachment
anlage = attachment
anruf = call
anrufen = call
anschließen = connect
anschluss = port connection
antrag = request
anfrage = request
anwendung = application
arbeitsplatz = workstation desk
aufnehmen = record
ausdrucken = print
ausdruck = print
ausfall = outage
ausgefallen = down outage
ausgeschieden = leaver
austritt = leaver
austreten = leave
ausweis = badge
authentifizierung = authentication
bearbeiten = edit
benutzer = user
benutzerkonto = user account
benutzername = username
berechtigung = permission access
berechtigungen = permissions access
besprechung = meeting
bestätigen = confirm
besucher = visitor guest
betriebssystem = operating system
bild = picture image
bildschirm = screen monitor display
blockiert = blocked
browser = browser
datei = file
dateien = files
datenträger = drive disk
dienst = service
drucken = print
drucker = printer
druckauftrag = print job
eingabe = input
einladung = invitation invite
einrichten = set up configure
einrichtung = setup
einstellung = setting
einstellungen = settings
eintrag = entry
empfangen = receive
empfänger = recipient
entsperren = unlock
erlaubnis = permission
ersatz = replacement
ersetzen = replace
erstellen = create
fehler = error
fehlermeldung = error message
fehlgeschlagen = failed
fenster = window
festplatte = disk drive
freigabe = share
freigegeben = shared
funktioniert = works
gast = guest
gelöscht = deleted
geht = works
gerät = device
geräte = devices
gesperrt = locked blocked
gruppe = group
handy = phone mobile
hochladen = upload
herunterladen = download
installieren = install
installation = install
kalender = calendar
kamera = camera
kennwort = password
konto = account
kopfhörer = headset headphones
kosten = cost
kostenstelle = cost centre center
lampe = light
langsam = slow
laufwerk = drive
laptop = laptop
lautsprecher = speaker
leer = empty
lesen = read
lizenz = license licence
löschen = delete
mail = email mail
maus = mouse
meldung = message
mikrofon = microphone
mitarbeiter = employee staff
mitarbeiterin = employee staff
monitor = monitor
nachricht = message
netz = network
netzwerk = network
neu = new
neuer = new
neustart = restart reboot
neu starten = restart
öffnen = open
ordner = folder
papier = paper
passwort = password
postfach = mailbox
postfächer = mailbox
postausgang = outbox
posteingang = inbox
programm = program application
prüfen = check
rechner = computer
rechnung = invoice
rechte = permissions rights
reise = travel
reisekosten = travel expenses
schlüssel = key
schreiben = write
senden = send
sicherheit = security
sicherheitswarnung = security warning
sperren = lock
speicher = storage memory
speicherplatz = storage space
spesen = expenses
spesenabrechnung = expense report
sprache = language
starten = start
stick = stick
synchronisieren = sync synchronize
synchronisierung = sync synchronization
tastatur = keyboard
teilen = share
telefon = phone
ton = audio sound
treiber = driver
überprüfen = verify check
übertragen = transfer
umzug = move
unterschrift = signature
verbinden = connect
verbindung = connection
verbunden = connected
verdächtig = suspicious
verloren = lost
verschlüsselung = encryption
versenden = send
verteiler = distribution list
verteilerliste = distribution list
vertreter = delegate
vertretung = delegate
verwalten = manage
verzeichnis = directory folder
vorgesetzter = manager
vorlage = template
warnung = warning
wiederherstellen = restore recover
wiederherstellung = recovery restore
wiederherstellungsschlüssel = recovery key
zertifikat = certificate
zugang = access
zugriff = access
zurücksetzen = reset
zweiter = second
"""

FRENCH = """
accès = access
accéder = access
adresse = address
agenda = calendar
ajouter = add
annuler = cancel
appareil = device
appel = call
application = application app
arrivée = new starter
authentification = authentication
autorisation = permission
bloqué = locked blocked
bloquée = locked blocked
boîte = mailbox
boîte aux lettres = mailbox
bureau = desk office desktop
caméra = camera
casque = headset
certificat = certificate
changer = change
clavier = keyboard
clé = key
clef = key
compte = account
connecter = connect
connexion = connection login
connecté = connected
contrat = contract
courriel = email
courrier = mail
créer = create
délégation = delegation
délégué = delegate
démarrer = start
départ = leaver
déverrouiller = unlock
disque = disk drive
dossier = folder
droits = permissions rights
écran = screen monitor display
effacer = delete
enregistrer = save
envoyer = send
erreur = error
expiré = expired
facture = invoice
fenêtre = window
fichier = file
fichiers = files
frais = expenses
groupe = group
imprimante = printer
imprimer = print
impression = print
installer = install
installation = install
invitation = invitation invite
invité = guest
lecteur = drive
lent = slow
lente = slow
licence = license
liste de diffusion = distribution list
logiciel = software
messagerie = email mailbox
message = message
mettre à jour = update
mise à jour = update
micro = microphone
microphone = microphone
mot de passe = password
nouveau = new
nouvelle = new
nuage = cloud
ordinateur = computer
ordinateur portable = laptop
ouvrir = open
panne = outage failure
partage = share
partager = share
partagé = shared
pièce jointe = attachment
pilote = driver
plein = full
pleine = full
portable = laptop mobile
poste = workstation
problème = problem issue
profil = profile
récupération = recovery
récupérer = recover
redémarrer = restart reboot
réinitialiser = reset
réseau = network
réunion = meeting
salle = room
sauvegarde = backup
sécurité = security
serveur = server
session = session login
signature = signature
souris = mouse
stockage = storage
supprimer = delete
suspect = suspicious
synchronisation = sync synchronization
synchroniser = sync synchronize
téléphone = phone
télécharger = download
transférer = transfer
utilisateur = user
vidéo = video
visiteur = visitor guest
volé = stolen
perdu = lost
"""

SPANISH = """
acceso = access
acceder = access
actualizar = update
actualización = update
agenda = calendar
añadir = add
adjunto = attachment
aplicación = application app
archivo = file
archivos = files
auriculares = headset headphones
autenticación = authentication
bloqueado = locked blocked
bloqueada = locked blocked
borrar = delete
buzón = mailbox
calendario = calendar
cámara = camera
carpeta = folder
certificado = certificate
clave = key password
compartido = shared
compartir = share
conectar = connect
conexión = connection
configuración = settings configuration
configurar = configure set up
contraseña = password
correo = email mail
correo electrónico = email
crear = create
cuenta = account
delegado = delegate
descargar = download
desbloquear = unlock
dispositivo = device
disco = disk drive
eliminar = delete
empleado = employee staff
enviar = send
equipo = computer team
error = error
escritorio = desktop desk
expirado = expired
expirada = expired
caducado = expired
caducada = expired
factura = invoice
fallo = failure error
gastos = expenses
grupo = group
impresora = printer
imprimir = print
impresión = print
iniciar sesión = sign in login
instalar = install
instalación = install
invitado = guest
invitación = invitation invite
lento = slow
lenta = slow
licencia = license
lista de distribución = distribution list
lleno = full
llena = full
llave = key
mensaje = message
micrófono = microphone
móvil = mobile phone
nuevo = new
nueva = new
nube = cloud
ordenador = computer
ordenador portátil = laptop
pantalla = screen monitor display
perfil = profile
permiso = permission
permisos = permissions
perdido = lost
portátil = laptop
problema = problem issue
programa = program software
recuperación = recovery
recuperar = recover
red = network
reiniciar = restart reboot
restablecer = reset
reunión = meeting
sala = room
seguridad = security
servidor = server
sesión = session login
sincronización = sync synchronization
sincronizar = sync synchronize
sospechoso = suspicious
teclado = keyboard
teléfono = phone
transferir = transfer
usuario = user
vídeo = video
visitante = visitor guest
robado = stolen
ratón = mouse
"""

LEXICONS = {"de": GERMAN, "fr": FRENCH, "es": SPANISH}

# Words that say nothing about the problem: function words, greetings, thanks, urgency, and
# the helpdesk's own words for "it does not work". Matched before stemming.
STOPWORDS = {
    "en": """a about above after again against all am an and any are as at be because been
    before being below between both but by can cannot could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his how i if
    in into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours
    yourself yourselves im ive dont doesnt cant wont isnt didnt thats also still again get got
    getting since today yesterday tomorrow morning afternoon week monday tuesday wednesday
    thursday friday hi hello hey dear thanks thank thx cheers regards best kind please pls help
    helpdesk desk team asap urgent quick quickly anyone someone somebody something anything
    sorry ok okay one two need needs want would like know tried try trying work working works
    worked issue issues problem problems question questions wrong fix fixed happen happened
    happening again already keeps keep now every anymore via re fw fwd""",
    "de": """aber alle allem allen aller alles als also am an andere anderen auch auf aus bei
    beim bin bis bitte bist da dabei damit dann das dass dem den denn der des dich die dies diese
    diesem diesen dieser dir doch dort du durch ein eine einem einen einer eines er es etwas euch
    für gegen habe haben hat hatte hier hin hinter ich ihm ihn ihr im in ist ja jetzt kann kein
    keine man mehr mein meine meinem meinen meiner mich mir mit muss nach nicht nichts noch nun
    nur ob oder ohne schon sehr sein seit sich sie sind so soll über um und uns unser unter vom
    von vor war waren was weil weiter wenn wer wie wieder wir wird wo zu zum zur hallo guten tag
    morgen danke vielen dank gruß grüße gruss grüsse liebe lieber viele geht gehts klappt
    funktioniert problem probleme frage dringend schnell heute gestern seit immer mal kurz hilfe
    bräuchte brauche möchte würde könnt könnte können kommt""",
    "fr": """a à au aux avec ce ces cet cette dans de des du elle en et eux il ils je j la le
    les leur lui ma mais me même mes moi mon ne nos notre nous on ou où par pas pour qu que qui
    sa se ses son sur ta te tes toi ton tu un une vos votre vous c d l m n s t y été est sont
    suis ai as avons avez ont fait faire peut peux pouvez bonjour bonsoir merci cordialement
    salut svp sil plaît plait aide problème problèmes question urgent rapidement aujourd hui
    hier depuis encore toujours quand comment pourquoi fonctionne marche plus rien""",
    "es": """a al algo como con de del el ella ellos en es esta este esto estos está están
    estoy fue ha han hay la las le les lo los me mi mis muy no nos o para pero por que qué se
    si sí sin su sus también te tengo tiene un una uno y ya yo hola buenos buenas días gracias
    saludos favor por ayuda problema problemas pregunta urgente hoy ayer desde todavía cuando
    cómo porque funciona nada puedo puede""",
}
