from guichet.web import create_app_or_exit

app = create_app_or_exit()
